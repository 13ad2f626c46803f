"""Sub-commands of the ``npctrial`` CLI, one module per layer.

Each module exposes ``register(app: typer.Typer) -> None``; :mod:`npctrial.cli` calls them.
"""

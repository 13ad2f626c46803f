"""Pages of the clinical workflow, one module per concept. Every view: study (404 if no role) -> object in
the user's site scope (404 otherwise) -> capability at that site (403), all through
:func:`npctrial.web.core.permissions.get_object_for` / :func:`~npctrial.web.core.permissions.get_study_for`.
"""

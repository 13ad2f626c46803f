from django.apps import AppConfig


class LanguagesConfig(AppConfig):
    name = "npctrial.web.languages"
    label = "languages"
    verbose_name = "Languages"
    default_auto_field = "django.db.models.BigAutoField"

from django.urls import path

from npctrial.web.languages.views import set_language

urlpatterns = [path("i18n/language/", set_language, name="set-language")]

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "contactcenter.core"
    label = "core"
    verbose_name = "Contact center core"

    def ready(self) -> None:
        from django.urls import register_converter

        from contactcenter.core.converters import IdConverter

        register_converter(IdConverter, "id")

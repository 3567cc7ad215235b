"""Admin for rule sets (reference data). The form checks values with the same
`rules.validate_values` the services use, and saving goes through the services, so an
override edited here obeys the rules and is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from fangkong.accounts.types import signed_in_user
from fangkong.core.errors import DomainError
from fangkong.protocol.models import RuleSet
from fangkong.protocol.rules import RULE_VALUE_FIELDS, validate_values
from fangkong.protocol.services import (
    META_FIELDS,
    ruleset_create,
    ruleset_create_override,
    ruleset_update,
)
from fangkong.protocol.vocabulary import KIND_LIST_WORDS, kind_choices


class RuleSetAdminForm(forms.ModelForm):
    class Meta:
        model = RuleSet
        fields = (
            "version",
            "name",
            "effective_from",
            "region",
            "based_on",
            "source",
            *RULE_VALUE_FIELDS,
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The kind lists are lists of codes: say which codes mean what.
        for name, words in KIND_LIST_WORDS.items():
            if name in self.fields:
                self.fields[name].help_text = kind_choices(words)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = {name: cleaned[name] for name in RULE_VALUE_FIELDS if name in cleaned}
        if len(values) == len(RULE_VALUE_FIELDS):
            try:
                normalised = validate_values(values)
            except DomainError as exc:
                field = exc.detail.get("field")
                if isinstance(field, str) and field in self.fields:
                    self.add_error(field, exc.message)
                else:
                    raise forms.ValidationError(exc.message, code=exc.code) from exc
            else:
                cleaned.update(normalised)
        return cleaned


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    form = RuleSetAdminForm
    list_display = ("version", "name", "effective_from", "region", "based_on")
    list_filter = ("region",)
    search_fields = ("version", "name")
    ordering = ("region", "-effective_from")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A rule set's identity and lineage are fixed once dates were computed from it.
        return ("version", "based_on") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: RuleSet, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            changes = {
                name: data[name]
                for name in (*RULE_VALUE_FIELDS, *META_FIELDS)
                if name in form.changed_data
            }
            saved = ruleset_update(actor=signed_in_user(request), ruleset=obj, changes=changes)
        elif data.get("based_on") is not None:
            base: RuleSet = data["based_on"]
            changes = {
                name: data[name] for name in RULE_VALUE_FIELDS if data[name] != getattr(base, name)
            }
            saved = ruleset_create_override(
                actor=signed_in_user(request),
                based_on=base,
                version=data["version"],
                name=data["name"],
                region=data["region"],
                effective_from=data["effective_from"],
                changes=changes,
            )
        else:
            saved = ruleset_create(
                actor=signed_in_user(request),
                version=data["version"],
                name=data["name"],
                region=data["region"],
                effective_from=data["effective_from"],
                source=data.get("source", ""),
                values={name: data[name] for name in RULE_VALUE_FIELDS},
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

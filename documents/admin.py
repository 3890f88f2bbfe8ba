"""The unit's letterhead and numbering, its own Word templates (uploaded through the service,
the built-in layout downloadable as a starting point), and read-only views of what was issued
and archived."""

from django import forms
from django.contrib import admin
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.http import content_disposition_header

from sentiment_ops.readonly import ReadOnlyAdmin

from . import layout, services
from .models import (
    BULLETIN_KINDS,
    DocumentKind,
    DocumentPolicy,
    DocumentTemplate,
    IncidentArchive,
    IssuedDocument,
)


@admin.register(DocumentPolicy)
class DocumentPolicyAdmin(admin.ModelAdmin):
    list_display = ["letterhead", "number_prefix", "signer", "bulletin_unit"]

    def has_add_permission(self, request):
        return not DocumentPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class TemplateForm(forms.ModelForm):
    class Meta:
        model = DocumentTemplate
        fields = ["kind", "file"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if hasattr(upload, "seek"):
            services.template_validate(upload)
        return upload


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ["kind", "uploaded_at", "uploaded_by"]
    change_list_template = "admin/documents/documenttemplate/change_list.html"

    def save_model(self, request, obj, form, change):
        saved = services.template_save(kind=obj.kind, upload=form.cleaned_data["file"], actor=request.user)
        obj.pk = saved.pk

    def get_urls(self):
        return [path("default/<slug:kind>.docx", self.admin_site.admin_view(self.default_template),
                     name="documents_default_template"), *super().get_urls()]

    def default_template(self, request, kind):
        """The built-in layout with its tags: the starting point of a unit's own template."""
        if kind not in DocumentKind.values:
            raise Http404
        response = HttpResponse(layout.default_template(kind in BULLETIN_KINDS),
                                content_type=services.FORMATS["docx"])
        response["Content-Disposition"] = content_disposition_header(True, f"{kind}-template.docx")
        return response

    def changelist_view(self, request, extra_context=None):
        links = format_html_join(
            " · ", '<a href="{}">{}</a>',
            ((reverse("admin:documents_default_template", args=[k]), label) for k, label in DocumentKind.choices))
        return super().changelist_view(request, {**(extra_context or {}), "default_templates": links})


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "year", "series", "number", "issued_at", "issued_by"]
    list_filter = ["kind", "year"]


@admin.register(IncidentArchive)
class IncidentArchiveAdmin(ReadOnlyAdmin):
    list_display = ["incident", "sealed_for", "built_at", "sha256"]
    exclude = ["file"]

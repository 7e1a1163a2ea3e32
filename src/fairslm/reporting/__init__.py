"""Reports: the versioned report document, its self-contained HTML page, terminal tables."""

from typing import TYPE_CHECKING

from fairslm._lazy import lazy_exports

if TYPE_CHECKING:
    from fairslm.reporting._compliance import render_compliance_html, write_compliance
    from fairslm.reporting._files import report_from_files
    from fairslm.reporting._format import format_interval, format_number
    from fairslm.reporting._generation_html import generation_page
    from fairslm.reporting._generation_terminal import print_generation_summary
    from fairslm.reporting._guide import CRITERIA_GUIDE, ratio_meaning
    from fairslm.reporting._html import render_html
    from fairslm.reporting._policy import policy_verdict
    from fairslm.reporting._report import build_report, write_report
    from fairslm.reporting._run_terminal import RunProgress, print_run_summary
    from fairslm.reporting._schema import (
        REPORT_SCHEMA_VERSION,
        load_report,
        report_schema,
        validate_report,
    )

__all__ = [
    "CRITERIA_GUIDE",
    "REPORT_SCHEMA_VERSION",
    "RunProgress",
    "build_report",
    "format_interval",
    "format_number",
    "generation_page",
    "load_report",
    "policy_verdict",
    "print_generation_summary",
    "print_run_summary",
    "ratio_meaning",
    "render_compliance_html",
    "render_html",
    "report_from_files",
    "report_schema",
    "validate_report",
    "write_compliance",
    "write_report",
]

# Each name is imported from its module on first use, so that importing the package (as
# every command of the CLI does) costs only what is used.
__getattr__, __dir__ = lazy_exports(__name__, {
    "fairslm.reporting._compliance": ("render_compliance_html", "write_compliance"),
    "fairslm.reporting._files": ("report_from_files",),
    "fairslm.reporting._format": ("format_interval", "format_number"),
    "fairslm.reporting._generation_html": ("generation_page",),
    "fairslm.reporting._generation_terminal": ("print_generation_summary",),
    "fairslm.reporting._guide": ("CRITERIA_GUIDE", "ratio_meaning"),
    "fairslm.reporting._html": ("render_html",),
    "fairslm.reporting._policy": ("policy_verdict",),
    "fairslm.reporting._report": ("build_report", "write_report"),
    "fairslm.reporting._run_terminal": ("RunProgress", "print_run_summary"),
    "fairslm.reporting._schema": (
        "REPORT_SCHEMA_VERSION", "load_report", "report_schema", "validate_report",
    ),
})

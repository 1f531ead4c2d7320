"""The procedure kit: the parts every regulatory procedure is built from.

A procedure (``regflows.incident``, ``regflows.credit``, the next three) composes these and
keeps only what is its own (its rules, texts and clauses); the kit never imports a procedure.

The public surface is declared here, in one place (:data:`MODULES`): the modules a procedure
may use and the names each offers. ``tests/test_kit_surface.py`` keeps it true: every name
listed exists, every module's ``__all__`` is listed, and no code outside the kit imports a
kit name that is not on this list. Names resolve lazily (PEP 562), so importing one module of
the kit does not load the others (the document writers load python-docx and openpyxl, about
0.7 s, which the CLI must not pay for a calendar question).

================  =====================================================================
module            what it holds
================  =====================================================================
``obligations``   one ``fulfil`` (evidence text, file checked and hashed, reference, who,
                  ledger), ``waive`` and ``reopen`` for every procedure, the UI form and the CLI;
                  ``withdraw_in``/``reinstate_in`` when the facts no longer call for one
``files``         atomic, owner-only file writes (reports, evidence); text files read as
                  UTF-8 or GBK (``decode_text``)
``progress``      a progress bar over a run's named steps (and a step's parts), for the procedures' CLIs
``publish``       a run's output files published as one set, all or none; a failed
                  run's files kept in ``failed-<timestamp>/``
``evidence``      the evidence record (text masked) and the file check (in the evidence areas,
                  exists, readable, SHA-256)
``reports``       every document a procedure produces, on record with its SHA-256; a path
                  on record is never overwritten (``refuse_overwriting``)
``uploads``       ``POST /uploads``: files a form cannot carry, stored by their hash
``refusals``      refusals of unauthenticated requests: counted and rate-limited per client
                  per minute, one ledger summary per minute
``reminders``     reminder policies (minutes before a due instant; working days from
                  09:00 until a due day; every interval until met, for no fixed hour;
                  each month from a start day, for a yearly or quarterly obligation)
                  and the one reminder loop procedures feed
``approvals``     the maker-checker core: ordered steps, who is eligible, the first
                  eligible confirmation, bound to a content hash, on signed links
``signoffs``      a document set signed off on the approvals core: the view of review,
                  approval and final copies; the approved and final files' bytes checked
``documents``     the official-document writer (GB/T 9704), the safe .xlsx and CSV
                  writers and Markdown text for artifacts
``errors``        one translator from validation errors to Chinese with file and line
``rulefiles``     YAML and JSON read with line maps, validated through ``errors``
``querylogs``     the query logs' reader and monthly rules as an interface: the procedure
                  that owns them registers them, another looks them up (never imports it)
``yearfacts``     what each procedure holds about a year (reports owed and when met, credit
                  events, verified violations, rectifications, user checks) as an interface:
                  each procedure registers its reader, the annual rating looks them up
``units``         which reporting units report on their own and to whom (PBOC-102
                  三（二）'s route), and a report's key per unit
``forms``         what people type into a deployment's form: Beijing wall-clock times,
                  empty for "not given", choices by their Chinese names
================  =====================================================================

Beijing time is ``calendars.zone`` and deadline arithmetic ``calendars.deadlines``: the
calendar layer sits below the kit and is used by it.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The kit's public modules and the names each offers (each module's own ``__all__``).
MODULES: dict[str, tuple[str, ...]] = {
    "obligations": ("EvidenceError", "ObligationNotFound", "Precondition", "Refused", "Step", "WaiverRefused", "fulfil",
                    "reinstate_in", "reopen", "waive", "withdraw_in"),
    "files": ("PRIVATE_FILE", "TEXT_ENCODINGS", "decode_text", "write_atomically"),
    "progress": ("StepBar", "step_progress"),
    "publish": ("JOURNAL", "Stage", "failed_folder", "publishing", "recover"),
    "reports": ("OnRecord", "on_record", "record_report_in", "refuse_overwriting"),
    "evidence": ("EvidenceError", "EvidenceFile", "check_file", "evidence_areas", "evidence_record", "sha256_file"),
    "uploads": ("ROUTES", "StoredUpload", "UploadRefused", "bearer_matches", "max_bytes", "safe_name", "store_upload", "upload_root"),
    "reminders": ("LATE_AFTER", "UNDATED", "BeforeDueInstant", "EveryUntilMet", "Feed", "MonthlyUntilDueDay", "Reminder", "ReminderPolicy", "Sent",
                  "WorkingDaysBeforeDueDay", "WorkingDaysUntilDueDay", "is_open", "remind"),
    "approvals": ("APPROVED", "DONE", "Act", "Approval", "Bound", "Decision", "NobodyEligible", "NoticeRequest", "Policy",
                  "Request", "Step", "Voided", "advance", "bind", "bind_in", "eligible", "finish_in", "get", "get_in",
                  "open_subjects", "person_name", "put_in", "role_members"),
    "signoffs": ("STAGE_TITLES", "FileChanged", "SignoffView", "check_final", "final_path", "read_approved", "view_fields"),
    "refusals": ("DEFAULT_PER_MINUTE", "LEDGER_ACTION", "MAX_CLIENTS", "RefusalLog", "note_refusal", "per_minute"),
    "errors": ("Loc", "MessageHook", "RuleFileError", "clean_loc", "describe", "field_path", "line_for", "place", "translate"),
    "querylogs": ("COLUMNS", "FLAG_COLUMNS", "NoQueryLogSource", "QueryLogError", "QueryLogSource", "query_log_source",
                  "register_query_log_source"),
    "yearfacts": ("REPORT_TOPICS", "TIMELINESS", "CreditEvent", "NoYearFacts", "Owed", "RectificationRecord", "UserCheckRecord",
                  "VerifiedViolation", "YearFacts", "YearFactsProvider", "gather_year", "register_year_facts",
                  "year_facts_providers"),
    "units": ("SEPARATOR", "addressee", "head_office_covers", "of_unit", "own_units", "reports_on_its_own", "split_unit_key", "unit_key"),
    "forms": ("BEIJING_TIME_HELP", "FormError", "choice_code", "form_time", "optional_text"),
    "rulefiles": ("Document", "load_json_model", "load_yaml_model", "parse_json", "parse_yaml", "read_json",
                  "read_text", "read_yaml"),
    "documents": ("AUTHOR", "DRAFT_MARK", "FINAL_STATUS", "final_copy", "DRILL_NOTICE", "DRILL_TAG", "FIRST_LINE_INDENT", "FONT_BODY", "FORMULA_STARTS",
                  "FONT_HEADING", "FONT_HEADINGS", "FONT_LATIN", "FONT_PAGE_NUMBER", "FONT_SHEET", "FONT_SUBTITLE",
                  "FONT_TABLE", "FONT_TITLE", "GBT9704", "LINE_SPACING", "NO_DATE", "PRIVATE_FILE", "RED", "RED_HEX",
                  "SIZE_BODY", "SIZE_HEADER", "SIZE_PAGE_NUMBER", "SIZE_TABLE", "SIZE_TITLE", "CellStyle",
                  "CellValue", "OfficialDocument", "PageLayout", "PageNumbers", "Pending", "SafeSheet",
                  "SafeWorkbook", "contains_pending", "is_pending", "markdown_text", "neutralise", "neutralise_column", "pending",
                  "pending_reason", "reproducible_zip", "set_fonts", "write_atomically", "write_csv"),
}

__all__ = sorted(MODULES)


def __getattr__(name: str) -> Any:
    """``regflows.kit.obligations`` and friends, imported on first use."""
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

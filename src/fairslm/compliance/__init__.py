"""Bias audits in the terms of the regimes that govern decisions about people.

* NYC Local Law 144 (6 RCNY §§5-300-5-303): selection or scoring rates and impact ratios of
  the EEO-1 categories, for :func:`nyc_ll144_audit`;
* the EEOC Uniform Guidelines (29 CFR 1607.4): the four-fifths rule with its statistical and
  practical companions, for :func:`eeoc_adverse_impact`;
* the EU AI Act (Regulation (EU) 2024/1689): an evidence bundle mapping what fairslm measured to
  the Act's articles, for :func:`eu_ai_act_bundle`.

Every result holds findings that cite the rule they follow; none says "compliant".
"""

from fairslm.compliance._categories import (
    EEO1_RACE_ETHNICITY,
    EEO1_SEX,
    GUIDELINES_GROUPS,
    UNKNOWN,
    CategoryMapping,
    load_mapping,
)
from fairslm.compliance._csv import format_tables, write_tables
from fairslm.compliance._eeoc import BOTTOM_LINE, eeoc_adverse_impact
from fairslm.compliance._eu import (
    EU_BUNDLE_SCHEMA_VERSION,
    EvidenceBundle,
    EvidenceItem,
    eu_ai_act_bundle,
)
from fairslm.compliance._nyc import EXCLUSION_SHARE, nyc_ll144_audit, one_year_after
from fairslm.compliance._result import (
    COMPLIANCE_SCHEMA_VERSION,
    REGIMES,
    CategoryRow,
    CategoryTable,
    ComplianceResult,
    Finding,
)

__all__ = [
    "BOTTOM_LINE",
    "COMPLIANCE_SCHEMA_VERSION",
    "CategoryMapping",
    "CategoryRow",
    "CategoryTable",
    "ComplianceResult",
    "EEO1_RACE_ETHNICITY",
    "EEO1_SEX",
    "EU_BUNDLE_SCHEMA_VERSION",
    "EXCLUSION_SHARE",
    "EvidenceBundle",
    "EvidenceItem",
    "Finding",
    "GUIDELINES_GROUPS",
    "REGIMES",
    "UNKNOWN",
    "eeoc_adverse_impact",
    "eu_ai_act_bundle",
    "format_tables",
    "load_mapping",
    "nyc_ll144_audit",
    "one_year_after",
    "write_tables",
]

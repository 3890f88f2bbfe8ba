"""The two seed plans as presets (issue 16): what ``setup_unit --preset`` and the first-run page
create — the unit's policy, sections, bodies and which body decides each response level, with the
plan's names.

Numbers: plan 002 states the response table (cadences, judgment sessions, briefings,
verification hours, stable days); plan 000 is silent on them, so the Justice Bureau takes 002's
numbers (``policy_defaults.LEVELS``). The rules DOMAIN.md draws from 000 (severity classes R14, the
12/24 h feedback window R15) are the code's and apply to both. What the presets differ in is the
shape: 002 has one decision body per response level and 信息中心 as the office; 000 has a
领导小组 that decides every level and its office in 党政办.
"""

import dataclasses

from django.utils.translation import gettext_lazy as _

from . import policy_defaults as seeds
from .models import Body

COMMAND = Body.COMMAND  # the command group's code in every preset


@dataclasses.dataclass(frozen=True)
class Preset:
    key: str
    title: object  # (lazy) what the first-run page offers
    unit_name: str  # the default name (``--name`` replaces it)
    office: str  # the code of the office section: the quick report's owner (R12)
    sections: tuple[tuple[str, str], ...]  # (code, name) in their order
    bodies: tuple[tuple[str, str], ...]  # (code, name); the command group first
    deciding: dict  # response level → the code of its deciding body (R4)
    briefing_recipients: dict  # response level → to whom briefings go
    unit: dict = dataclasses.field(default_factory=lambda: dict(seeds.UNIT))

    def levels(self) -> dict[int, dict]:
        """Each level's policy values: 002's numbers, this plan's briefing recipients."""
        return {level: {**values, "briefing_recipients": self.briefing_recipients[level]}
                for level, values in seeds.LEVELS.items()}


HOUSING_002 = Preset(
    key="housing-002",
    title=_("包头市住房保障和房屋管理局预案（002）：信息中心牵头，每个响应级别一个决策指挥机构"),
    unit_name="包头市住房保障和房屋管理局",
    office="info",
    sections=(("office", "局办公室"), ("info", "信息中心"), ("petition", "信访科"),
              ("market", "房地产市场科"), ("housing", "住房保障科")),
    bodies=((COMMAND, "舆情信息指挥小组"), ("level1", "局应急指挥工作组"), ("level2", "局应急指挥小组"),
            ("level3", "信息中心应急指挥工作组"), ("level4", "现场工作组")),
    deciding={1: "level1", 2: "level2", 3: "level3", 4: "level4"},
    briefing_recipients={level: values["briefing_recipients"] for level, values in seeds.LEVELS.items()},
)

# Plan 000 names 党政办 (the 领导小组's office) and speaks of 各股室 without listing them: the
# other sections are the usual 股室 of a district 司法局, to be renamed in the admin or replaced by
# the organisation workbook.
JUSTICE_000 = Preset(
    key="justice-000",
    title=_("区司法局预案（000）：领导小组决定各级响应，办公室设在党政办"),
    unit_name="区司法局",
    office="office",
    sections=(("office", "党政办"), ("rule_of_law", "普法与依法治理股"), ("mediation", "人民参与和促进法治股"),
              ("legal_service", "公共法律服务管理股"), ("correction", "社区矫正股")),
    bodies=((COMMAND, "舆情信息指挥小组"), ("leading", "应对网络舆情突发事件领导小组")),
    deciding={1: "leading", 2: "leading", 3: "leading", 4: "leading"},
    briefing_recipients={1: "区委、区政府领导", 2: "领导小组", 3: "分管领导", 4: "党政办"},
)

PRESETS = {p.key: p for p in (HOUSING_002, JUSTICE_000)}
DEFAULT = HOUSING_002.key

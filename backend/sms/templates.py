"""The messages Wangge sends, by name. A provider sends only templates the city had approved
(签名 + 模板 on the Aliyun or Tencent console): ``WANGGE_SMS_TEMPLATES`` maps each name here to
the provider's template id, and the approved text should say what ``text`` says. The console
sender writes ``text`` itself.

>>> TEMPLATES["verification_code"].render({"code": "123456"})
'您的验证码是123456，5分钟内有效，请勿告诉他人。'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    name: str
    # The variables, in the order Tencent's TemplateParamSet takes them ({1}, {2} …); Aliyun's
    # TemplateParam names them (${code}).
    params: tuple[str, ...]
    text: str

    def render(self, params: Mapping[str, str]) -> str:
        return self.text.format_map(params)


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("verification_code", ("code",), "您的验证码是{code}，5分钟内有效，请勿告诉他人。"),
        # For callers of the hotline and other reporters without an account.
        Template(
            "tracking_code",
            ("code",),
            "您反映的问题已受理，查询码{code}，可凭此码在网格通查看办理进度。",
        ),
        # Notifications (backend/notify/) to a case's contact phone, or a worker without the app.
        Template(
            "notice_accepted", ("case",), "您反映的问题（案件{case}）已受理，我们会尽快处理。"
        ),
        Template(
            "notice_closed",
            ("case", "link"),
            "您反映的问题（案件{case}）已办结，请凭查询码在{link}评价办理结果。",
        ),
        Template("notice_overdue", ("case",), "您的案件{case}已超过办理时限，请尽快处理。"),
    )
}

"""The 适老化 family's rule-pack parameters and their fall-back defaults, shared by the measurement
(:mod:`auditor.plugins.elderly_probe`: keywords that find the entry, the ratio axe-core tests
contrast at) and the judgement (:mod:`auditor.checks.elderly`: font size and spacing thresholds).

``national.json`` carries the same numbers with their source and status; these defaults only apply
when a pack has no value. Here rather than in either module because a check may not import a
plugin, and the plugin should not depend on a check.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "elderly.min_body_font_px": 14,
    "elderly.min_body_font_px_care": 18,
    "elderly.min_line_height_ratio": 1.3,
    "elderly.zoom_factor": 2.0,
    "elderly.min_contrast_ratio": 4.5,
    "elderly.min_contrast_ratio_large": 3.0,
    "elderly.zoom_pages": 5,
    "elderly.entry_keywords": ["无障碍", "适老", "长者", "长辈", "关怀", "老年", "大字", "读屏", "辅助浏览", "爱心模式", "助老"],
    "elderly.toolbar_functions": {
        "text_zoom": ["放大", "大字", "字号", "缩放", "字体"],
        "high_contrast": ["对比", "配色", "反色", "色彩", "高对比"],
        "voice": ["朗读", "读屏", "语音", "声音", "指读", "连读", "播报"],
        "large_pointer": ["光标", "指针", "鼠标"],
        "simplified": ["纯文本", "简洁", "简化", "文本模式", "阅读模式", "简版"],
    },
    "elderly.inducement_keywords": ["下载APP", "下载App", "下载客户端", "立即下载", "扫码下载", "安装APP", "去下载", "充值",
                                    "付费", "立即购买", "开通会员", "领取红包"],
    "elderly.ad_markers": ["ad", "ads", "adv", "advert", "guanggao", "gg", "piao", "piaochuang", "float", "floating",
                           "couplet", "duilian", "popup", "tanchuang", "tc"],
    "elderly.ad_hosts": ["googlesyndication", "doubleclick", "cpro.baidu", "pos.baidu", "tanx.com", "alimama", "mediav"],
}


def pv(ctx: Any, key: str) -> Any:
    """The pack's value for ``key`` (any context with a ``pack``), else the default above."""

    return ctx.pack.value(key, DEFAULTS[key])

"""The masking corpus: a page with a secret planted for every class of leak we know of.

Each secret is distinct, so a leak names its class. Numbers are drawn so that no six of their
digits in a row appear in the page's innocent text (dates, amounts, times, short codes), which
must reach the agent unchanged.
"""

from __future__ import annotations

# name → value. Typed ones are typed key by key; the rest are in the page or set by its script.
TYPED = {
    "typed_card_default": "6222021148203957164",  # a field with no marking: private by default
    "typed_card_unmasked": "6217008830417725391",  # typed into a field the bank chose to show
    "typed_account_numeric": "6228488105629934057",  # inputmode=numeric labelled 账号: secret despite unmask
    "typed_textarea": "4392258817346650",
    "typed_editable": "6259071184539926",  # contenteditable, typed
    "typed_password": "Qz7781Secret",
    "typed_password_shown": "Pw5519Visible",  # typed after "show password" made it a text field
    "typed_frame_input": "FrameTyped-6617",  # an input inside a same-origin iframe in a mask region
}
PAGE = {
    "fmt_nbsp": "6259\u00a00117\u00a08834\u00a05529",
    "fmt_ideographic": "6259\u30000218\u30009935\u30006630",
    "fmt_dots": "6259.0319.1036.7731",
    "fmt_dashes": "6259-0410-2137-8832",
    "fmt_fullwidth": "６２５９０５１１３２３８９９３３",
    "fmt_spans": "6259 0612 4339 1034",  # four <span> groups
    "fmt_id_x": "11010519491231581X",
    "fmt_id_spaced": "110105 19491231 692X",
    "fmt_phone": "138 0913 7746",
    "fmt_progressive": "6259 0713 5430 2135",  # groups appended one by one while sharing
    "fmt_slash": "6259/0814/6531/3236",
    "attr_outside": "6259091575324337",  # a data-* attribute outside any region: numbers still go
    "region_text": "RegionText-7731",
    "region_title": "RegionTitle-4411",
    "region_aria": "RegionAria-4412",
    "region_data": "RegionData-4413",
    "region_alt": "RegionAlt-4414",
    "region_placeholder": "RegionHint-4415",
    "region_option": "RegionOption-4416",
    "region_generated": "GeneratedNote-4417",
    "region_shadow_text": "ShadowSecret-4418",
    "region_shadow_title": "ShadowTitleSecret-4419",
    "region_frame_text": "FrameSecret-4420",
    "region_frame_title": "FrameTitleSecret-4421",
    "blocked_text": "BlockedText-5510",
    "blocked_shadow": "BlockedShadow-5511",
    "blocked_frame": "BlockedFrame-5512",
    "echoed_password": "Qz7781Secret",  # the page repeats the typed password in its own text
}
OUTSIDE = {
    "help_page": "6259101186254438",  # in the URL hash when help is asked for
    "help_transcript": "6259 1112 9715 5539",  # in a sentence of the voice transcript
}
SECRETS = TYPED | {k: v for k, v in PAGE.items() if k != "echoed_password"} | OUTSIDE

INNOCENT = "¥12,345.67 · 2026-12-01 14:30 · 尾号 3445 · 验证码 4071 · 共 3 笔"
SVG_PATH = "M 12 3 L 20 6 L 20 12 C 20 17 16.5 20 12 21 C 7.5 20 4 17 4 12 L 4 6 Z M 9.5 12.25 L 11 13.75 L 14.5 10.25"

CORPUS_PAGE = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>掩码语料</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>#gen::after {{ content: "{PAGE["region_generated"]}"; }} main {{ font-size: 14px; }}</style>
<script src="/sdk/assist.js"></script></head>
<body><main id="page">
<h1 id="heading">掩码语料</h1>
<label for="k-card">卡号</label><input id="k-card">
<label for="k-unmasked">备注</label><input id="k-unmasked" data-assist-unmask>
<label for="k-numeric">收款账号</label><input id="k-numeric" inputmode="numeric" data-assist-unmask>
<label for="k-area">说明</label><textarea id="k-area"></textarea>
<div id="k-edit" contenteditable="true" role="textbox" aria-label="可编辑"></div>
<label for="pw">登录密码</label><input id="pw" type="password" data-assist-unmask>
<button id="show-pw" type="button">显示密码</button>
<p id="f-nbsp">卡号 {PAGE["fmt_nbsp"]}</p>
<p id="f-ideographic">卡号 {PAGE["fmt_ideographic"]}</p>
<p id="f-dots">卡号 {PAGE["fmt_dots"]}</p>
<p id="f-dashes">卡号 {PAGE["fmt_dashes"]}</p>
<p id="f-fullwidth">卡号 {PAGE["fmt_fullwidth"]}</p>
<p id="f-spans">卡号 {"".join(f'<span class="grp">{g}</span> ' for g in PAGE["fmt_spans"].split())}</p>
<p id="f-id">身份证 {PAGE["fmt_id_x"]}</p>
<p id="f-id-spaced">身份证 {PAGE["fmt_id_spaced"]}</p>
<p id="f-phone">手机 {PAGE["fmt_phone"]}</p>
<p id="f-slash">卡号 {PAGE["fmt_slash"]}</p>
<p id="f-progressive">卡号 </p>
<p id="f-attr" data-account="{PAGE["attr_outside"]}">带属性的段落</p>
<div data-assist-mask id="region">
  <span title="{PAGE["region_title"]}" aria-label="{PAGE["region_aria"]}"
        data-note="{PAGE["region_data"]}">{PAGE["region_text"]}</span>
  <img alt="{PAGE["region_alt"]}" width="1" height="1" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <input id="r-input" placeholder="{PAGE["region_placeholder"]}" aria-label="区域输入">
  <select id="r-select" aria-label="区域选择"><option value="{PAGE["region_option"]}">选项一</option></select>
  <span id="gen"></span>
  <div id="shadow-host"></div>
  <iframe id="frame" title="区域内嵌页"></iframe>
</div>
<div data-assist-block id="blocked">{PAGE["blocked_text"]}<div id="blocked-shadow"></div>
  <iframe id="blocked-frame" title="不共享"></iframe></div>
<svg id="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"><path id="icon-path" d="{SVG_PATH}"/></svg>
<p id="innocent">{INNOCENT}</p>
<p id="echo"></p>
<button id="next" type="button">下一步</button>
</main>
<script src="/corpus.js"></script>
</body></html>"""

CORPUS_SCRIPT = f"""
  const shadow = document.getElementById('shadow-host').attachShadow({{mode: 'open'}});
  shadow.innerHTML = '<p title="{PAGE["region_shadow_title"]}">{PAGE["region_shadow_text"]}</p>';
  const frame = document.getElementById('frame').contentDocument;
  frame.body.innerHTML = '<p title="{PAGE["region_frame_title"]}">{PAGE["region_frame_text"]}</p>' +
    '<input id="frame-input" aria-label="内嵌输入">';
  const blockedShadow = document.getElementById('blocked-shadow').attachShadow({{mode: 'open'}});
  blockedShadow.innerHTML = '<p>{PAGE["blocked_shadow"]}</p>';
  document.getElementById('blocked-frame').contentDocument.body.innerHTML = '<p>{PAGE["blocked_frame"]}</p>';
  document.getElementById('show-pw').addEventListener('click', () => {{
    document.getElementById('pw').type = 'text';
  }});
  // A page that repeats what was typed (a bad page, but pages do it).
  document.getElementById('pw').addEventListener('change', (e) => {{
    document.getElementById('echo').textContent = '您输入了 ' + e.target.value;
  }});
  window.addGroups = async () => {{
    const p = document.getElementById('f-progressive');
    for (const group of {PAGE["fmt_progressive"].split()!r}) {{
      const span = document.createElement('span');
      span.textContent = group + ' ';
      p.append(span);
      await new Promise((r) => setTimeout(r, 150));
    }}
  }};
"""

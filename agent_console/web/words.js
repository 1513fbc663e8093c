// What the consoles show in words instead of codes: the customer's app, language, topic and
// screen, in the console's language (its catalog, i18n.js). One place, so every console says
// the same thing.
const PAGES = {
  "#/login": "page.login", "#/home": "page.home", "#/transfer": "page.transfer", "#/transfer/new": "page.transferNew",
  "#/transfer/amount": "page.transferAmount", "#/transfer/purpose": "page.transferPurpose",
  "#/transfer/confirm": "page.transferConfirm", "#/transfer/password": "page.transferPassword",
  "#/transfer/result": "page.transferResult", "#/records": "page.records", "#/payees": "page.payees",
  "#/limits": "page.limits", "#/settings": "page.settings",
};
// The wrap-up outcome that fits how the session ended ("resolved" only when it ended normally).
export const OUTCOME_FOR_END = { customer_ended: "resolved", agent_ended: "resolved", supervisor_ended: "other",
  consent_declined: "customer_declined", dropped: "dropped", transferred: "transferred" };

const GUEST_NAME = "未登录客户"; // assist/guest.py

export function createWords(t) {
  // A code in words ("edition", "elderly" → "幸福生活版"), or the code itself when it has none.
  const named = (family, code) => {
    const key = `${family}.${code}`;
    const text = t(key);
    return text === key ? code : text;
  };
  const edition = (code) => named("edition", code);
  const spoken = (code) => named("spoken", code);

  // The customer's screen: the page's own title when the mirror told us (any bank page has one),
  // else a name for the demo app's routes (the offer knows only the route).
  const pageInWords = (page, title) => {
    if (title) return title.split(" - ")[0];
    const key = PAGES[String(page || "").split("?")[0]];
    return key ? t(key) : page ? t("page.other") : t("unit.none");
  };

  // Waits round up, as on the supervisor's wall and board: one customer's wait read "3 s" in the
  // line and "0:02" on the board beside it.
  const waited = (seconds) => {
    const s = Math.max(0, Math.ceil(seconds));
    return s < 60 ? t("request.waited", { s }) : t("request.waitedLong", { m: Math.floor(s / 60), s: s % 60 });
  };

  // "转账 · 幸福生活版 · 普通话" (+ "· 请求回电" for a callback)
  const requestInWords = (r) => {
    const parts = [named("topic", r.topic), edition(r.edition), spoken(r.language)];
    if (r.callback) parts.push(t("request.callback"));
    return parts.join(" · ");
  };

  // One waiting customer as a line of the queue: "张三 · 转账 · 标准版 · 普通话 · 已等待 12 秒".
  // A customer's name as the server gives it; a guest's is the server's fixed Chinese label,
  // said in the console's language.
  const person = (name) => (name === GUEST_NAME ? t("customer.guest") : name);
  const requestLine = (r) => `${person(r.customer_name)} · ${requestInWords(r)} · ${waited(r.waited_s)}`;

  return { named, edition, spoken, pageInWords, waited, requestInWords, requestLine, person };
}

// The waiting line as list items whose waits keep counting: a new line comes only when the line
// changes, so without this "已等待 0 秒" stood still beside a wall saying the wait was growing.
// Each second the items' text is redrawn in place (waited_s plus the time since the line came).
export function tickingLine(list, requestLine) {
  let timer = null;
  return (waiting) => {
    const came = Date.now();
    const items = waiting.map(() => document.createElement("li"));
    const draw = () => {
      const since = (Date.now() - came) / 1000;
      waiting.forEach((r, i) => { items[i].textContent = requestLine({ ...r, waited_s: (r.waited_s || 0) + since }); });
    };
    draw();
    list.replaceChildren(...items);
    clearInterval(timer);
    timer = waiting.length ? setInterval(draw, 1000) : null;
  };
}

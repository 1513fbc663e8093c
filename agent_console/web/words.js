// What the consoles show in words instead of codes: the customer's app, language, topic and
// screen; call, session and end states. One place, so every console says the same thing.
export const EDITIONS = { standard: "标准版", elderly: "幸福生活版", english: "English 版" };
export const LANGUAGES = { zh: "普通话", en: "英语" };
export const TOPICS = { transfer: "转账", general: "一般咨询" };
const PAGES = {
  "#/login": "登录", "#/home": "首页", "#/transfer": "转账 · 选择收款人", "#/transfer/new": "转账 · 新收款人",
  "#/transfer/amount": "转账 · 填写金额", "#/transfer/purpose": "转账 · 选择用途", "#/transfer/confirm": "转账 · 确认信息",
  "#/transfer/password": "转账 · 输入密码", "#/transfer/result": "转账 · 结果", "#/records": "交易记录",
  "#/payees": "收款人", "#/limits": "转账限额", "#/settings": "设置",
};
export const CALL_STATES = { idle: "未开始", new: "准备中", connecting: "接通中", connected: "已接通",
  disconnected: "连接中断", failed: "接通失败", closed: "已挂断" };
export const SESSION_STATES = { awaiting_consent: "通话中 · 未共享屏幕", sharing: "共享中",
  stopped: "客户已停止共享" };
export const END_REASONS = { customer_ended: "客户结束了会话", agent_ended: "您结束了会话", consent_declined: "客户不同意共享",
  dropped: "连接中断", supervisor_ended: "主管结束了会话", transferred: "已转接给其他坐席" };
// The wrap-up outcome that fits how the session ended ("resolved" only when it ended normally).
export const OUTCOME_FOR_END = { customer_ended: "resolved", agent_ended: "resolved", supervisor_ended: "other",
  consent_declined: "customer_declined", dropped: "dropped", transferred: "transferred" };

// The customer's screen: the page's own title when the mirror told us (any bank page has one),
// else a name for the demo app's routes (the offer knows only the route).
export function pageInWords(page, title) {
  if (title) return title.split(" - ")[0];
  return PAGES[String(page || "").split("?")[0]] || (page ? "其他页面" : "—");
}

export function waited(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `已等待 ${s} 秒` : `已等待 ${Math.floor(s / 60)} 分 ${s % 60} 秒`;
}

// One waiting customer as a line of the queue: "张三 · 转账 · 标准版 · 普通话 · 已等待 12 秒".
export function requestLine(r) {
  return `${r.customer_name} · ${requestInWords(r)} · ${waited(r.waited_s)}`;
}

// "转账 · 幸福生活版 · 普通话" (+ "· 回电" for a callback)
export function requestInWords(r) {
  const parts = [TOPICS[r.topic] || r.topic, EDITIONS[r.edition] || r.edition, LANGUAGES[r.language] || r.language];
  if (r.callback) parts.push("请求回电");
  return parts.join(" · ");
}

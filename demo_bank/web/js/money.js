// Money is integer fen (cents) end to end: parsed from text and formatted without floats.

export function formatFen(fen, { sign = false } = {}) {
  const negative = fen < 0;
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const prefix = negative ? '-' : (sign ? '+' : '');
  return `${prefix}¥${grouped}.${cents}`;
}

// "1,234.5" → 123450; null when it is not an amount (at most 2 decimals, at most ¥999,999,999.99).
export function parseYuan(text) {
  const cleaned = String(text || '').replace(/[\s,，¥￥]/g, '').replace(/^元|元$/g, '');
  const match = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(cleaned);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'));
}

// 123450 → "1234.50", 500000 → "5000" (for pre-filling an input).
export function fenToInput(fen) {
  const cents = fen % 100;
  return cents ? `${Math.floor(fen / 100)}.${String(cents).padStart(2, '0')}` : String(Math.floor(fen / 100));
}

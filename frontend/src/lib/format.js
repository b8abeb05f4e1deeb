const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
const count = new Intl.NumberFormat('en-US')

/** Formats integer cents as US dollars: 1999 -> "$19.99". */
export function formatPrice(cents) {
  const value = Number(cents)
  return usd.format(Number.isFinite(value) ? value / 100 : 0)
}

export function formatCount(n) {
  return count.format(Number(n) || 0)
}

/** "1 item" / "3 items". */
export function pluralise(n, singular, plural = `${singular}s`) {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`
}

export function formatTime(date) {
  return new Intl.DateTimeFormat('en-US', { timeStyle: 'medium', dateStyle: 'medium' }).format(date)
}

const PALETTE = ['#2f6f8f', '#8a4f7d', '#3f7d4e', '#a25b2a', '#5a5fa8', '#8d6a1f', '#2d7a78', '#a23e48']

/** A stable colour for a category name, for the image fallback tile. */
export function categoryColour(category = '') {
  let hash = 0
  for (const ch of String(category)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0
  return PALETTE[hash % PALETTE.length]
}

/** Up to two initials of a product name: "Coffee Mug" -> "CM". */
export function initials(name = '') {
  const words = String(name).trim().split(/\s+/).filter(Boolean)
  if (!words.length) return '?'
  const letters = words.length === 1 ? [...words[0]].slice(0, 2) : [words[0][0], words[1][0]]
  return letters.join('').toUpperCase()
}

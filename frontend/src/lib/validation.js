// Validation for the mock payment form and quantities. Pure functions; each returns an error
// message, or '' when the value is valid.

import { getConfig } from '../config.js'

/** The most of one product a cart line may hold: config.json's maxQuantity, which is the cart API's
 * MAX_QUANTITY (one setting, runtime/shared/config.py). Without it the API alone enforces the bound. */
export function maxQuantity() {
  return getConfig().maxQuantity ?? Number.POSITIVE_INFINITY
}

export function digitsOnly(value) {
  return String(value ?? '').replace(/[\s-]/g, '')
}

/** Luhn checksum over a string of digits. */
export function luhnValid(digits) {
  if (!/^\d+$/.test(digits)) return false
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

export function validateCardNumber(value) {
  const digits = digitsOnly(value)
  if (!digits) return 'Enter the card number.'
  if (!/^\d+$/.test(digits)) return 'The card number may contain only digits and spaces.'
  if (digits.length < 12 || digits.length > 19) return 'The card number must have 12 to 19 digits.'
  if (!luhnValid(digits)) return 'This card number is not valid. Check it for typos.'
  return ''
}

export function validateCardName(value) {
  const name = String(value ?? '').trim()
  if (!name) return 'Enter the name on the card.'
  if (name.length < 2) return 'The name on the card is too short.'
  if (name.length > 100) return 'The name on the card is too long.'
  return ''
}

/** Expiry as MM/YY; valid through the last day of that month. */
export function validateExpiry(value, now = new Date()) {
  const text = String(value ?? '').trim()
  if (!text) return 'Enter the expiry date.'
  const match = /^(\d{2})\s*\/\s*(\d{2})$/.exec(text)
  if (!match) return 'Enter the expiry date as MM/YY.'
  const month = Number(match[1])
  const year = 2000 + Number(match[2])
  if (month < 1 || month > 12) return 'The expiry month must be between 01 and 12.'
  const thisYear = now.getFullYear()
  const thisMonth = now.getMonth() + 1
  if (year < thisYear || (year === thisYear && month < thisMonth)) return 'This card has expired.'
  if (year > thisYear + 20) return 'The expiry date is too far in the future.'
  return ''
}

export function validateCvc(value) {
  const text = String(value ?? '').trim()
  if (!text) return 'Enter the security code (CVC).'
  if (!/^\d{3,4}$/.test(text)) return 'The security code must be 3 or 4 digits.'
  return ''
}

/** Validates a typed quantity; returns {value, error}. */
export function parseQuantity(input, max = maxQuantity()) {
  const text = String(input ?? '').trim()
  if (!/^\d+$/.test(text)) return { value: null, error: `Enter a whole number from 0 to ${max}.` }
  const value = Number(text)
  if (value > max) return { value: null, error: `The most you can order is ${max}.` }
  return { value, error: '' }
}

export function isValidEmail(value) {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(value ?? '').trim())
}

import { describe, expect, it } from 'vitest'
import {
  isValidEmail,
  luhnValid,
  parseQuantity,
  validateCardName,
  validateCardNumber,
  validateCvc,
  validateExpiry,
} from '../src/lib/validation.js'
import { categoryColour, formatPrice, initials, pluralise } from '../src/lib/format.js'

describe('card number', () => {
  it('accepts Luhn-valid numbers, with or without spaces', () => {
    expect(validateCardNumber('4242 4242 4242 4242')).toBe('')
    expect(validateCardNumber('4111111111111111')).toBe('')
    expect(validateCardNumber('5555-5555-5555-4444')).toBe('')
  })

  it('rejects a wrong check digit, letters, bad lengths and blanks', () => {
    expect(validateCardNumber('4242 4242 4242 4241')).toMatch(/not valid/)
    expect(validateCardNumber('4242 4242 abcd 4242')).toMatch(/only digits/)
    expect(validateCardNumber('42424')).toMatch(/12 to 19/)
    expect(validateCardNumber('')).toMatch(/Enter the card number/)
  })

  it('computes the Luhn checksum', () => {
    expect(luhnValid('79927398713')).toBe(true)
    expect(luhnValid('79927398710')).toBe(false)
    expect(luhnValid('12a')).toBe(false)
  })
})

describe('expiry', () => {
  const now = new Date(2026, 10, 15) // 15 November 2026

  it('accepts this month and later months', () => {
    expect(validateExpiry('11/26', now)).toBe('')
    expect(validateExpiry('01/27', now)).toBe('')
    expect(validateExpiry('12 / 30', now)).toBe('')
  })

  it('rejects past months, bad months and bad formats', () => {
    expect(validateExpiry('10/26', now)).toMatch(/expired/)
    expect(validateExpiry('12/25', now)).toMatch(/expired/)
    expect(validateExpiry('13/27', now)).toMatch(/between 01 and 12/)
    expect(validateExpiry('00/27', now)).toMatch(/between 01 and 12/)
    expect(validateExpiry('1/27', now)).toMatch(/MM\/YY/)
    expect(validateExpiry('', now)).toMatch(/Enter the expiry/)
  })
})

describe('cvc and name', () => {
  it('takes 3 or 4 digits only', () => {
    expect(validateCvc('123')).toBe('')
    expect(validateCvc('1234')).toBe('')
    expect(validateCvc('12')).toMatch(/3 or 4 digits/)
    expect(validateCvc('12345')).toMatch(/3 or 4 digits/)
    expect(validateCvc('12a')).toMatch(/3 or 4 digits/)
  })

  it('needs a name', () => {
    expect(validateCardName('Ada Lovelace')).toBe('')
    expect(validateCardName('   ')).toMatch(/Enter the name/)
    expect(validateCardName('A')).toMatch(/too short/)
  })
})

describe('quantities and emails', () => {
  it('parses whole numbers from 0 to the maximum', () => {
    expect(parseQuantity('0')).toEqual({ value: 0, error: '' })
    expect(parseQuantity(' 12 ')).toEqual({ value: 12, error: '' })
    expect(parseQuantity('1001').error).toMatch(/1000/)
    expect(parseQuantity('-1').error).toMatch(/whole number/)
    expect(parseQuantity('2.5').error).toMatch(/whole number/)
  })

  it('checks email shape', () => {
    expect(isValidEmail('shopper@example.com')).toBe(true)
    expect(isValidEmail('shopper@example')).toBe(false)
  })
})

describe('formatting', () => {
  it('formats cents as US dollars', () => {
    expect(formatPrice(1999)).toBe('$19.99')
    expect(formatPrice(0)).toBe('$0.00')
    expect(formatPrice(123456)).toBe('$1,234.56')
  })

  it('makes initials, plurals and stable colours', () => {
    expect(initials('Coffee Mug')).toBe('CM')
    expect(initials('sticker')).toBe('ST')
    expect(pluralise(1, 'item')).toBe('1 item')
    expect(pluralise(3, 'item')).toBe('3 items')
    expect(categoryColour('kitchen')).toBe(categoryColour('kitchen'))
    expect(categoryColour('kitchen')).toMatch(/^#[0-9a-f]{6}$/)
  })
})

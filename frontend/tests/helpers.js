import { flushPromises } from '@vue/test-utils'

export const mug = {
  productId: 'mug-1',
  name: 'Coffee Mug',
  category: 'kitchen',
  description: 'A sturdy mug.',
  price: 1250,
  image: '/images/mug-1.svg',
}

export const tee = {
  productId: 'tee-2',
  name: 'Serverless T-Shirt',
  category: 'apparel',
  description: 'Soft cotton.',
  price: 1999,
  image: '/images/tee-2.svg',
}

export const sticker = {
  productId: 'sticker-3',
  name: 'Sticker',
  category: 'stationery',
  description: 'Shiny.',
  price: 300,
  image: '',
}

/** A cart line as GET /cart returns it. */
export function line(product, quantity) {
  return { sk: product.productId, productId: product.productId, quantity, productDetail: product }
}

export function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export function apiError(message, status) {
  const error = new Error(message)
  error.name = 'ApiError'
  error.status = status
  return error
}

export { flushPromises }

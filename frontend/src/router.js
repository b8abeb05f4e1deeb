import { createRouter, createWebHistory } from 'vue-router'
import { useAuthStore } from './stores/auth.js'
import ShopView from './views/ShopView.vue'

// SPA paths never start with /cart or /product: those belong to the APIs.
export const routes = [
  { path: '/', name: 'shop', component: ShopView, meta: { title: 'Shop' } },
  {
    path: '/checkout',
    name: 'checkout',
    component: () => import('./views/CheckoutView.vue'),
    meta: { title: 'Checkout', requiresAuth: true },
  },
  {
    path: '/order/complete',
    name: 'order-complete',
    component: () => import('./views/OrderCompleteView.vue'),
    meta: { title: 'Order confirmed', requiresAuth: true },
  },
  {
    path: '/admin',
    name: 'admin',
    component: () => import('./views/AdminView.vue'),
    meta: { title: 'Admin', requiresAuth: true },
  },
  {
    path: '/signin',
    name: 'signin',
    component: () => import('./views/SignInView.vue'),
    meta: { title: 'Sign in', guestOnly: true, authForm: true },
  },
  {
    path: '/signup',
    name: 'signup',
    component: () => import('./views/SignUpView.vue'),
    meta: { title: 'Sign up', guestOnly: true, authForm: true },
  },
  {
    path: '/confirm',
    name: 'confirm',
    component: () => import('./views/ConfirmView.vue'),
    meta: { title: 'Confirm your account', guestOnly: true, authForm: true },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('./views/NotFoundView.vue'),
    meta: { title: 'Not found' },
  },
]

/** Only same-site paths are followed after sign-in ("/x", not "//evil.example" or "https:..."). */
export function safeRedirect(value) {
  if (typeof value !== 'string') return '/'
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/'
  return value
}

/** The navigation guard: sign-in required pages send guests to /signin and back. */
export async function guard(to) {
  const auth = useAuthStore()
  if (!auth.initialized) await auth.init()
  if (to.meta.requiresAuth && !auth.isSignedIn) {
    return { name: 'signin', query: { redirect: to.fullPath } }
  }
  if (to.meta.guestOnly && auth.isSignedIn) {
    return safeRedirect(to.query.redirect)
  }
  return true
}

export function createAppRouter(history = createWebHistory(import.meta.env.BASE_URL)) {
  const router = createRouter({
    history,
    routes,
    scrollBehavior: (to, from, saved) => saved || { top: 0 },
  })
  router.beforeEach(guard)
  router.afterEach((to) => {
    if (typeof document !== 'undefined') {
      document.title = to.meta.title ? `${to.meta.title} · Serverless Shop` : 'Serverless Shop'
    }
  })
  return router
}

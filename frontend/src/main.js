import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import BootError from './BootError.vue'
import { loadConfig } from './config.js'
import { configureAuth } from './auth.js'
import { createAppRouter } from './router.js'
import { useAuthStore } from './stores/auth.js'
import { useCartStore } from './stores/cart.js'
import './styles.css'

async function start() {
  let config
  try {
    config = await loadConfig()
    configureAuth(config)
  } catch (error) {
    createApp(BootError, { message: error.message }).mount('#app')
    return
  }

  const pinia = createPinia()
  const app = createApp(App)
  app.use(pinia)
  await useAuthStore(pinia).init() // restore a kept session before the first navigation
  useCartStore(pinia).load()
  app.use(createAppRouter())
  app.mount('#app')
}

start()

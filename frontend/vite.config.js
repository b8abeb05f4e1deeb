import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm run dev` serves the app with hot reload and forwards everything that is not the app's own
// code (config.json, both APIs, local Cognito, images) to a running stack, by default the local
// one from `make dev`. BACKEND_URL picks another. URLs in config.json that point at the backend
// are rewritten to the dev server's origin, so the browser stays on one origin (cookies, no CORS).
const BACKEND_URL = (process.env.BACKEND_URL || `http://localhost:${process.env.PORT || 8080}`).replace(/\/+$/, '')

// Paths Vite itself serves in dev; everything else that is not a page navigation goes to the backend.
const VITE_PATHS = /^\/(?!@|src\/|node_modules\/|__|favicon\.svg|index\.html)/

function rewriteConfigForDev() {
  return {
    name: 'dev-config-json',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/config.json', async (req, res) => {
        try {
          const upstream = await fetch(`${BACKEND_URL}/config.json`, { headers: { Accept: 'application/json' } })
          const config = await upstream.json()
          const origin = `http://${req.headers.host}`
          for (const [key, value] of Object.entries(config)) {
            if (typeof value === 'string' && value.startsWith(BACKEND_URL)) {
              config[key] = origin + value.slice(BACKEND_URL.length)
            }
          }
          res.setHeader('Content-Type', 'application/json')
          res.setHeader('Cache-Control', 'no-store')
          res.end(JSON.stringify(config))
        } catch (error) {
          res.statusCode = 502
          res.setHeader('Content-Type', 'application/json')
          res.end(JSON.stringify({ message: `Dev server: no config.json at ${BACKEND_URL} (${error.message})` }))
        }
      })
    },
  }
}

export default defineConfig({
  plugins: [vue(), rewriteConfigForDev()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        // Stable, named vendor chunks: they change less often than the app, so browsers keep them.
        codeSplitting: {
          groups: [
            { name: 'amplify', test: /node_modules[\\/](@aws-amplify|aws-amplify|@aws-crypto|@aws-sdk|@smithy|tslib|js-cookie)/ },
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    port: Number(process.env.DEV_PORT || 5173),
    strictPort: false,
    proxy: {
      [VITE_PATHS.source]: {
        target: BACKEND_URL,
        changeOrigin: false,
        // Page navigations (Accept: text/html) stay with Vite, which answers with index.html.
        bypass: (req) => (req.headers.accept?.includes('text/html') ? req.url : undefined),
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.js'],
    setupFiles: ['tests/setup.js'],
    restoreMocks: true,
    mockReset: true,
    unstubGlobals: true,
  },
})

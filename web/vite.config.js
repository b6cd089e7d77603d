import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  base: '/admin/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  server: {
    proxy: {
      '/api': process.env.GEMGATE_URL || 'http://127.0.0.1:7860',
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.js', 'src/**/*.test.js'],
  },
})

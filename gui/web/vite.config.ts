import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: { chunkSizeWarningLimit: 2000, outDir: '../target/classes/dev/vmctl/gui', emptyOutDir: true, assetsDir: 'assets' },
  server: { proxy: { '/api': 'http://127.0.0.1:7171' } },
  test: { include: ['src/**/*.test.ts', 'contract/**/*.test.ts'], environment: 'node' },
});

/** Headless Chromium for the report tests (bench/chromium.ts does the work, shared with `npm run bench -- report`). */
export { CHROMIUM, CHROMIUM_MISSING, launchChromium, type Browser } from '../../bench/chromium.js';

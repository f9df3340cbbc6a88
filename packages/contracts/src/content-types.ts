const UTF8 = '; charset=utf-8';

/** By lower-case extension. Text types carry a charset so browsers never guess. */
const TYPES: Record<string, string> = {
  // documents and data
  html: `text/html${UTF8}`,
  htm: `text/html${UTF8}`,
  xhtml: `application/xhtml+xml${UTF8}`,
  css: `text/css${UTF8}`,
  js: `text/javascript${UTF8}`,
  mjs: `text/javascript${UTF8}`,
  cjs: `text/javascript${UTF8}`,
  jsx: `text/javascript${UTF8}`,
  ts: `text/plain${UTF8}`, // served as source, never executed: `video/mp2t` would be wrong for a site
  map: `application/json${UTF8}`,
  json: `application/json${UTF8}`,
  jsonld: `application/ld+json${UTF8}`,
  webmanifest: `application/manifest+json${UTF8}`,
  xml: `application/xml${UTF8}`,
  xsl: `application/xml${UTF8}`,
  rss: `application/rss+xml${UTF8}`,
  atom: `application/atom+xml${UTF8}`,
  txt: `text/plain${UTF8}`,
  text: `text/plain${UTF8}`,
  md: `text/markdown${UTF8}`,
  markdown: `text/markdown${UTF8}`,
  csv: `text/csv${UTF8}`,
  tsv: `text/tab-separated-values${UTF8}`,
  ics: `text/calendar${UTF8}`,
  vtt: `text/vtt${UTF8}`,
  yaml: `text/yaml${UTF8}`,
  yml: `text/yaml${UTF8}`,
  toml: `application/toml${UTF8}`,
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  // images
  svg: `image/svg+xml${UTF8}`,
  svgz: 'image/svg+xml',
  png: 'image/png',
  apng: 'image/apng',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jfif: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
  ico: 'image/x-icon',
  cur: 'image/x-icon',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  // fonts
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
  // audio and video
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
  m3u8: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
  mid: 'audio/midi',
  midi: 'audio/midi',
  // archives and downloads
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  br: 'application/octet-stream',
  '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar',
  exe: 'application/octet-stream',
  dmg: 'application/x-apple-diskimage',
  apk: 'application/vnd.android.package-archive',
  epub: 'application/epub+zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  glb: 'model/gltf-binary',
  gltf: 'model/gltf+json',
};

/** Files with these exact names have a well-known type whatever their extension says. */
const BY_NAME: Record<string, string> = {
  'apple-app-site-association': 'application/json',
  _redirects: `text/plain${UTF8}`,
  _headers: `text/plain${UTF8}`,
};

export function contentTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const known = BY_NAME[name];
  if (known) return known;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** Types worth precompressing: text and other formats that are not compressed already. */
export function isCompressible(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/wasm' ||
    type === 'application/toml' ||
    type === 'application/vnd.apple.mpegurl' ||
    type === 'image/x-icon' ||
    type === 'image/bmp' ||
    type === 'font/ttf' ||
    type === 'font/otf' ||
    type === 'application/vnd.ms-fontobject' ||
    type === 'model/gltf-binary'
  );
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'public, max-age=0, must-revalidate';

/** Folders whose every file is content-addressed by the framework that wrote them. */
const IMMUTABLE_FOLDERS = ['_next/static/', '_app/immutable/', '_astro/', '_nuxt/'];

/** Folders where bundlers put hashed assets (Vite `assets/`, CRA `static/js`, Docusaurus `assets/js`). */
const ASSET_FOLDER = /(^|\/)(assets|static)\//;

/**
 * Is there a content hash in the name? `main.3f9a1c2b.js`, `app-5e1f9a0c7b2d4e6f8a9b.js`:
 * 8+ characters with letters and digits; Vite's base64 hashes (`index-DaUXYGij.css`) may have
 * no digit, so inside an asset folder mixed case counts too.
 */
function hasContentHash(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const segments = name.split(/[.-]/).slice(1, -1); // not the stem's first word, not the extension
  // Rollup's base64url hashes may contain "-" themselves: also try the 8 characters before the extension.
  const tail = /[.-]([A-Za-z0-9_-]{8})\.[A-Za-z0-9]+$/.exec(name)?.[1];
  if (tail) segments.push(tail);
  return segments.some((seg) => {
    if (seg.length < 8 || !/^[A-Za-z0-9_-]+$/.test(seg)) return false;
    if (/\d/.test(seg) && /[A-Za-z]/.test(seg)) return true;
    return ASSET_FOLDER.test(path) && /[a-z]/.test(seg) && /[A-Z]/.test(seg);
  });
}

/** HTML is always revalidated (its URL is stable); hashed assets are cached forever; the rest revalidates with its ETag. */
export function cachePolicyFor(path: string, contentType: string): string {
  if (contentType.startsWith('text/html')) return REVALIDATE;
  if (IMMUTABLE_FOLDERS.some((folder) => path.startsWith(folder))) return IMMUTABLE;
  if (hasContentHash(path)) return IMMUTABLE;
  return REVALIDATE;
}

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>` +
  `<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#222}main{text-align:center}h1{font-size:3rem;margin:0}p{color:#666}</style>` +
  `</head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;

export const PAGES = {
  notFound: page('404', 'This page could not be found.'),
  unknownHost: page('404', 'No deployment is served at this address.'),
  badRequest: page('400', 'The request was not understood.'),
  badGateway: page('502', 'The deployment could not be read from storage. Try again shortly.'),
  methodNotAllowed: page('405', 'Only GET and HEAD are served here.'),
};

// SPDX-License-Identifier: MIT
// sanitize.js - the only places where HTML from outside enters the page, both through DOMPurify:
// inbound message bodies (an allow-list of formatting tags, links opened in a new tab, a mail's
// inline images by their cid: from the message's own attachments) and search snippets (text with
// <mark>, nothing else).
import DOMPurify from 'dompurify';

const messagePurifier = DOMPurify();
const snippetPurifier = DOMPurify();

// Everything that can run code, load a document, submit data or restyle the app is dropped, as
// are the SVG and MathML namespaces (USE_PROFILES html only).
const MESSAGE_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form',
    'input', 'button', 'textarea', 'select', 'option', 'link', 'meta', 'base', 'noscript',
    'template', 'svg', 'math', 'video', 'audio', 'source', 'track', 'dialog', 'portal',
  ],
  FORBID_ATTR: ['style', 'class', 'id', 'name', 'srcset', 'action', 'formaction', 'target',
    'ping', 'background', 'poster'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|tel:|#)/i,
  RETURN_DOM_FRAGMENT: true,
};

// While sanitizeMessageHtml runs: Content-ID -> attachment URL of the message being sanitised,
// and the images whose cid: named one of them (DOMPurify drops the cid: src itself, as the URI
// allow-list has no cid:, so the URL is put back after).
let cids = null;
let inline = new WeakMap();

/** The Content-ID a "cid:" URL names (RFC 2392: URL-encoded, without <>), or null. */
export function cidOf(src) {
  const m = /^\s*cid:(.+)$/i.exec(src || '');
  if (!m) return null;
  let id = m[1].trim();
  try {
    id = decodeURIComponent(id);
  } catch {
    /* not encoded: as written */
  }
  return id.replace(/^<(.*)>$/, '$1');
}

messagePurifier.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName !== 'src' || node.tagName !== 'IMG' || !cids) return;
  const url = cids.get(cidOf(data.attrValue));
  if (url) inline.set(node, url);
});

messagePurifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    if (node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  }
  if (node.tagName === 'IMG') {
    // Remote images are blocked by the page's CSP anyway; keep only inline (data: or a cid: of
    // this message) ones and say what was left out, so that the layout does not show broken
    // images.
    const src = node.getAttribute('src') || '';
    if (inline.has(node)) {
      node.setAttribute('src', inline.get(node));
    } else if (!/^data:image\/(png|jpe?g|gif|webp);/i.test(src)) {
      node.removeAttribute('src');
      node.setAttribute('data-blocked', '');
    }
    node.setAttribute('loading', 'lazy');
  }
});

/**
 * Returns a DocumentFragment with the safe part of an inbound HTML body. cidUrls (optional):
 * a Map of Content-ID to the URL of that attachment, for <img src="cid:...">.
 */
export function sanitizeMessageHtml(html, cidUrls) {
  cids = cidUrls || null;
  inline = new WeakMap();
  try {
    return messagePurifier.sanitize(String(html || ''), MESSAGE_CONFIG);
  } finally {
    cids = null;
  }
}

/** Returns the snippet as an HTML string in which only <mark> survives. */
export function sanitizeSnippet(html) {
  return snippetPurifier.sanitize(String(html || ''), {
    ALLOWED_TAGS: ['mark'],
    ALLOWED_ATTR: [],
    KEEP_CONTENT: true,
  });
}

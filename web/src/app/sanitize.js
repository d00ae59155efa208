// SPDX-License-Identifier: MIT
// sanitize.js - the only places where HTML from outside enters the page, both through DOMPurify:
// inbound message bodies (an allow-list of formatting tags, links opened in a new tab) and search
// snippets (text with <mark>, nothing else).
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

messagePurifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    if (node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  }
  if (node.tagName === 'IMG') {
    // Remote images are blocked by the page's CSP anyway; keep only inline (data:) ones and
    // say what was left out, so that the layout does not show broken images.
    const src = node.getAttribute('src') || '';
    if (!/^data:image\/(png|jpe?g|gif|webp);/i.test(src)) {
      node.removeAttribute('src');
      node.setAttribute('data-blocked', '');
    }
    node.setAttribute('loading', 'lazy');
  }
});

/** Returns a DocumentFragment with the safe part of an inbound HTML body. */
export function sanitizeMessageHtml(html) {
  return messagePurifier.sanitize(String(html || ''), MESSAGE_CONFIG);
}

/** Returns the snippet as an HTML string in which only <mark> survives. */
export function sanitizeSnippet(html) {
  return snippetPurifier.sanitize(String(html || ''), {
    ALLOWED_TAGS: ['mark'],
    ALLOWED_ATTR: [],
    KEEP_CONTENT: true,
  });
}

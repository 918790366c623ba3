() => {
  // The chat page's script, run once on load (demo.load js). It:
  // - links citation markers to the source viewer: a click on a marker [n] (or on a passage's
  //   "Open in the whole document") unfolds and flashes the cited passage under the answer and
  //   sends "turn:number" through the hidden #qa-cite-key box, so the server shows that citation
  //   in the viewer. Capture phase, so the click does not also count as selecting the message;
  // - hides a marker's hover card while the passage it cites is open under the answer;
  // - keeps a new question and the start of its answer in view (the Chatbot's own autoscroll is
  //   off: it would scroll to the bottom of the answer's sources);
  // - makes a message's Copy button copy plain text with numbered sources (the hidden
  //   .qa-copy-text of the message) instead of the message's HTML;
  // - ignores Enter in a blank question box and disables the Ask button while it is blank;
  // - lists the conversations another tab of this browser stored (the `storage` event).
  if (window.__qaCiteBridge) return;
  window.__qaCiteBridge = true;

  const QUESTION = '#qa-question textarea';
  const MESSAGES = '#qa-chat [data-testid="user"], #qa-chat [data-testid="bot"]';
  const isBlank = (box) => !box || !box.value || !box.value.trim();

  // ---- citation markers -> source viewer ------------------------------------------------
  const send = (key) => {
    const box = document.querySelector('#qa-cite-key textarea, #qa-cite-key input');
    if (!box) return;
    box.value = key + ':' + Date.now();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('#qa-chat a.qa-ref, #qa-chat a.qa-open') : null;
    if (!link) return;
    const href = link.getAttribute('href') || '';
    const m = /^#qa-t(\d+)-(\d+)$/.exec(href);
    if (!m) return;
    event.preventDefault();
    event.stopPropagation();
    const passage = document.getElementById(href.slice(1));
    if (passage && link.classList.contains('qa-ref')) {
      passage.open = true;
      link.closest('.qa-ref-wrap')?.classList.add('qa-pop-off');  // now, not after the toggle event
      passage.scrollIntoView({ block: 'nearest' });
      passage.classList.remove('qa-flash');
      void passage.offsetWidth;
      passage.classList.add('qa-flash');
    }
    window.__qaShowViewer = link.classList.contains('qa-open');
    send(m[1] + ':' + m[2]);
  }, true);

  // ---- a marker's hover card goes once its passage is open under the answer ------------------
  // The card would repeat the passage just opened, on top of it. qa-pop-off (ui.css) hides it
  // while the passage it belongs to is open, whoever opened it; it comes back when that closes.
  const syncPops = () => {
    document.querySelectorAll('#qa-chat a.qa-ref').forEach((ref) => {
      const wrap = ref.closest('.qa-ref-wrap');
      const href = ref.getAttribute('href') || '';
      if (!wrap || !href.startsWith('#')) return;
      const passage = document.getElementById(href.slice(1));
      const off = !!(passage && passage.open);
      if (wrap.classList.contains('qa-pop-off') !== off) wrap.classList.toggle('qa-pop-off', off);
    });
  };
  document.addEventListener('toggle', (event) => {  // does not bubble: caught on the way down
    if (event.target instanceof Element && event.target.matches('#qa-chat details.qa-cite')) syncPops();
  }, true);

  // ---- keep the latest question and its answer in view ------------------------------------
  const scrollToLatest = () => {
    const log = document.querySelector('#qa-chat [role="log"]');
    const messages = document.querySelectorAll(MESSAGES);
    if (!log || !messages.length) return;
    const users = document.querySelectorAll('#qa-chat [data-testid="user"]');
    const last = messages[messages.length - 1];
    const question = users.length ? users[users.length - 1] : null;
    // The question that the last message answers (a reply without one: the reply itself).
    const target = (question && !(question.compareDocumentPosition(last) & Node.DOCUMENT_POSITION_PRECEDING))
      ? (question.closest('.message-row') || question) : (last.closest('.message-row') || last);
    log.scrollTop += target.getBoundingClientRect().top - log.getBoundingClientRect().top - 4;
    const top = target.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 48) window.scrollBy(0, top - 8);
  };
  let seen = 0;
  let pending = false;
  const onChatChange = () => {
    pending = false;
    syncPops();  // a message drawn again keeps its passages' state but not the markers' classes
    const count = document.querySelectorAll(MESSAGES).length;
    if (count > seen) setTimeout(scrollToLatest, 30);
    seen = count;
  };
  const chat = document.querySelector('#qa-chat');
  if (chat) {
    new MutationObserver(() => {
      if (!pending) { pending = true; requestAnimationFrame(onChatChange); }
    }).observe(chat, { childList: true, subtree: true });
  }

  // ---- Copy copies plain text ---------------------------------------------------------------
  // Gradio's copy button writes the message content (our HTML); swap in the message's text for
  // the write that follows the click (Clipboard API, or the execCommand fallback's copy event).
  let copyText = null;
  let copyUntil = 0;
  const takeCopy = () => {
    const text = copyText !== null && Date.now() < copyUntil ? copyText : null;
    copyText = null;
    return text;
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => {
      const own = takeCopy();
      return write(own !== null ? own : text);
    };
  }
  document.addEventListener('copy', (event) => {
    const own = takeCopy();
    if (own === null || !event.clipboardData) return;
    event.clipboardData.setData('text/plain', own);
    event.preventDefault();
  }, true);
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('#qa-chat button') : null;
    if (!button || !/copy/i.test((button.getAttribute('aria-label') || '') + ' ' + (button.title || ''))) return;
    const rowText = (row) => {
      const hidden = row.querySelector('.qa-copy-text');
      const content = row.querySelector('.message-content');
      return hidden ? hidden.textContent : (content ? content.innerText.trim() : '');
    };
    const row = button.closest('.message-row');
    // One message, or (the chat-wide copy button) the whole conversation.
    const rows = row ? [row] : [...document.querySelectorAll('#qa-chat .message-row')];
    if (!rows.length) return;
    copyText = rows.map(rowText).join('\n\n');
    copyUntil = Date.now() + 1000;
  }, true);

  // ---- blank questions ----------------------------------------------------------------------
  const syncAsk = () => {
    const box = document.querySelector(QUESTION);
    const button = document.querySelector('#qa-question button.submit-button, #qa-question [data-testid="submit-button"]');
    if (!box || !button) return;
    const off = box.disabled || isBlank(box);
    if (button.disabled !== off) button.disabled = off;
    if (off) button.setAttribute('aria-disabled', 'true'); else button.removeAttribute('aria-disabled');
  };
  const hookValue = (box) => {  // the page sets the value without an input event (examples, clearing)
    if (!box || box.__qaHooked) return;
    box.__qaHooked = true;
    const prop = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value');
    Object.defineProperty(box, 'value', {
      configurable: true,
      get() { return prop.get.call(this); },
      set(v) { prop.set.call(this, v); queueMicrotask(syncAsk); },
    });
  };
  const blankEnter = (event) => {
    const box = event.target instanceof Element ? event.target.closest(QUESTION) : null;
    if (!box || event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    if (!isBlank(box)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  };
  document.addEventListener('keydown', blankEnter, true);
  document.addEventListener('keypress', blankEnter, true);
  document.addEventListener('input', (event) => {
    if (event.target instanceof Element && event.target.matches(QUESTION)) syncAsk();
  }, true);
  const questionBlock = document.querySelector('#qa-question');
  if (questionBlock) {
    new MutationObserver(() => { hookValue(document.querySelector(QUESTION)); syncAsk(); })
      .observe(questionBlock, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled'] });
  }
  hookValue(document.querySelector(QUESTION));
  syncAsk();

  // ---- a paused question box pauses the example questions too (the server pauses the box) ----
  // #qa-index-status holds data-paused="1" while asking is paused: before the first index is
  // ready (every tab polls it). While documents are added or removed (data-busy="1") asking and
  // the examples stay open: answers come from the documents indexed before.
  const EXAMPLE_BUTTONS = '#qa-examples button, #qa-chat .examples button';
  const syncExamples = () => {
    const busy = !!document.querySelector('#qa-index-status [data-paused="1"]');
    document.body.classList.toggle('qa-indexing', busy);
    document.querySelectorAll(EXAMPLE_BUTTONS).forEach((b) => {
      if (b.disabled !== busy) b.disabled = busy;
      if (busy) b.setAttribute('aria-disabled', 'true'); else b.removeAttribute('aria-disabled');
      b.title = busy ? 'Paused until the index is ready' : '';
    });
  };
  const indexStatus = document.querySelector('#qa-index-status');
  if (indexStatus) new MutationObserver(syncExamples).observe(indexStatus, { subtree: true, childList: true, attributes: true });
  const examplesBlock = document.querySelector('#qa-chat');  // the chat shows the examples while it is empty
  let examplesPending = false;
  if (examplesBlock) {
    new MutationObserver(() => {
      if (!examplesPending) { examplesPending = true; requestAnimationFrame(() => { examplesPending = false; syncExamples(); }); }
    }).observe(examplesBlock, { subtree: true, childList: true });
  }
  syncExamples();

  // ---- dark / light switch, remembered in this browser ----------------------------------------
  const applyTheme = (dark) => {
    document.body.classList.toggle('dark', dark);
    const button = document.querySelector('#qa-theme');
    if (button) {
      button.textContent = dark ? 'Light mode' : 'Dark mode';
      button.setAttribute('aria-pressed', String(dark));
    }
  };
  let storedTheme = null;
  try { storedTheme = localStorage.getItem('qa-theme'); } catch (e) { /* storage off */ }
  applyTheme(storedTheme ? storedTheme === 'dark' : document.body.classList.contains('dark'));

  // ---- another tab changed the stored conversations: list them here too ------------------------
  window.addEventListener('storage', (event) => {
    if (event.key && event.key.startsWith('qa-chats-')) document.querySelector('#qa-store-sync')?.click();
  });

  // ---- actions called from event js (layout.py) ----------------------------------------------
  window.qaUI = {
    toggleTheme() {
      const dark = !document.body.classList.contains('dark');
      applyTheme(dark);
      try { localStorage.setItem('qa-theme', dark ? 'dark' : 'light'); } catch (e) { /* storage off */ }
    },
    afterAnswer() {
      setTimeout(() => {
        syncAsk();
        document.querySelector(QUESTION)?.focus({ preventScroll: true });
        scrollToLatest();
      }, 60);
    },
    confirmRemove(source) {
      return source && confirm('Remove ' + source + ' from the index? The file stays in the documents folder.')
        ? source : null;
    },
    scrollToLatest,
  };
}

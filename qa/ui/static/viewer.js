// The document viewer (gr.HTML js_on_load): scroll the highlighted quote into the middle of the
// viewer box (only the box, not the page).
const scrollToQuote = () => {
  const box = element.querySelector('.qa-doc');
  const mark = box && box.querySelector('mark');
  if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  if (box && window.__qaShowViewer) {  // opened from "Open in the whole document": bring it on screen
    window.__qaShowViewer = false;
    element.scrollIntoView({ block: 'nearest' });
  }
};
requestAnimationFrame(scrollToQuote);
watch('value', () => requestAnimationFrame(scrollToQuote));

// WCAG 2 contrast of every visible text node against its first opaque background;
// evaluated in the page by test_dashboard_browser.py. Returns the texts under 4.5:1.
() => {
        const rgb = s => s.match(/[\d.]+/g).map(Number);
        const lum = ([r, g, b]) => {
            const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const background = el => {
            for (let e = el; e; e = e.parentElement) {
                const c = getComputedStyle(e).backgroundColor;
                const v = rgb(c);
                if (v.length < 4 || v[3] === 1) return v.slice(0, 3);
            }
            return [255, 255, 255];
        };
        const bad = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, el = node.parentElement;
            if (!node.textContent.trim() || !el || el.offsetParent === null) continue;
            const style = getComputedStyle(el);
            if (style.visibility === 'hidden' || el.closest('.visually-hidden, option')) continue;
            const a = lum(rgb(style.color)), b = lum(background(el));
            const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
            if (ratio < 4.5) bad.push(`${ratio.toFixed(2)} ${el.tagName}.${el.className}: ${node.textContent.trim().slice(0, 40)}`);
        }
        return bad;
    }

/** The console's one browser bundle: each page's live parts, found by the elements the page holds. */
import { mountForm } from './form.ts';
import { mountStackPage } from './stack-page.ts';

function catalogFilter(): void {
  const search = document.getElementById('catalog-search') as HTMLInputElement | null;
  const category = document.getElementById('catalog-category') as HTMLSelectElement | null;
  if (!search || !category) return;
  const apply = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    document.querySelectorAll<HTMLElement>('#catalog-cards .card').forEach((c) => {
      const ok = words.every((w) => (c.dataset.text ?? '').includes(w)) && (!category.value || c.dataset.category === category.value);
      c.hidden = !ok;
      if (ok) shown++;
    });
    const empty = document.getElementById('catalog-empty');
    if (empty) empty.hidden = shown > 0;
  };
  search.addEventListener('input', apply);
  category.addEventListener('change', apply);
}

const formRoot = document.getElementById('deploy-form');
const formData = document.getElementById('form-data');
if (formRoot && formData?.textContent) mountForm(formRoot, JSON.parse(formData.textContent));
const head = document.getElementById('stack-head');
if (head) mountStackPage(head);
catalogFilter();

/**
 * Catalog markdown (READMEs, release notes) as HTML. markdown-it with `html: false` never passes raw HTML
 * through — `<script>` comes out as text — and its link validation drops javascript:, vbscript: and data:
 * URLs, so a vendor's README cannot script the console. Loaded on the first README shown.
 */
import type MarkdownIt from 'markdown-it';

type Md = InstanceType<typeof MarkdownIt>;
import { SafeHtml } from './html.ts';

let md: Md | undefined;

export async function renderMarkdown(text: string): Promise<SafeHtml> {
  if (!md) {
    const { default: Md } = await import('markdown-it');
    md = new Md({ html: false, linkify: true, typographer: false });
    type Rule = NonNullable<Md['renderer']['rules']['link_open']>;
    const defaultLink: Rule = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
    const rule: Rule = (tokens, idx, options, env, self) => {
      tokens[idx].attrSet('rel', 'noopener noreferrer nofollow');
      tokens[idx].attrSet('target', '_blank');
      return defaultLink(tokens, idx, options, env, self);
    };
    md.renderer.rules.link_open = rule;
    // Images would be fetched from wherever the README points: not on an air-gapped console.
    md.disable('image');
  }
  return new SafeHtml(md.render(text));
}

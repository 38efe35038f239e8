/**
 * The address spaces: per process its VMAs as ranges, and under each its PTEs — present, young,
 * dirty, write, or a swap or migration entry — each one a button that selects the page it maps,
 * whose inspector then shows who else maps it (the reverse map).
 */
import { type ProcessTables, pteFlags, pteMapsPage } from '../model/pagetable';

/** PTEs drawn per VMA; the rest are counted. */
const SHOWN = 128;

const SHORT: Readonly<Record<string, string>> = {
  present: 'P',
  write: 'W',
  young: 'Y',
  dirty: 'D',
  special: '0',
  swap: 'S',
  migration: 'M',
  protnone: 'N',
};

export interface PageTablesProps {
  tables: ProcessTables[] | null;
  selected: string | null;
  onSelect: (id: string) => void;
}

export function PageTables({ tables, selected, onSelect }: PageTablesProps) {
  if (!tables) return <p className="muted">This state is too large to show its page tables.</p>;
  if (tables.length === 0) return <p className="muted">No process yet.</p>;
  return (
    <div className="page-tables" data-testid="page-tables">
      <p className="muted">
        P present · W write · Y young · D dirty · 0 zero page · S swap entry · M migration entry. A PTE’s
        button selects its page.
      </p>
      {tables.map((p) => (
        <section key={p.mm} className="pt-process">
          <h3>{p.name}</h3>
          {p.vmas.map((v) => (
            <div key={v.vma} className={`pt-vma${selected === v.vma ? ' selected' : ''}`} data-vma={v.vma}>
              <button type="button" className="link pt-range" onClick={() => onSelect(v.vma)}>
                {v.region || v.vma} [{v.start}, {v.end}) · {v.pages} pages
              </button>
              <ol className="pt-ptes">
                {v.ptes.slice(0, SHOWN).map((e) => {
                  const flags = pteFlags(e.bits);
                  const page = pteMapsPage(e.bits) ? `page:${e.pfn}` : null;
                  const swap = flags.includes('swap');
                  const what = swap ? `swap entry ${e.pfn}` : `pfn ${e.pfn}`;
                  const shown = `${e.index} ${flags.map((f) => SHORT[f]).join('')} ${swap ? `s${e.pfn}` : e.pfn}`;
                  return (
                    <li key={e.index} data-index={e.index}>
                      <button
                        type="button"
                        className={`pte${page && page === selected ? ' selected' : ''}`}
                        disabled={!page}
                        title={`page ${e.index}: ${flags.join(', ')} → ${what}`}
                        aria-label={`${shown}: page ${e.index}, ${flags.join(', ')}, ${what}`}
                        onClick={() => page && onSelect(page)}
                      >
                        <span className="pte-index">{e.index}</span>{' '}
                        <span className="pte-flags">{flags.map((f) => SHORT[f]).join('')}</span>{' '}
                        <span className="pte-pfn">{swap ? `s${e.pfn}` : e.pfn}</span>
                      </button>
                    </li>
                  );
                })}
              </ol>
              {v.ptes.length > SHOWN && <p className="muted">… and {v.ptes.length - SHOWN} more PTEs</p>}
              {v.ptes.length === 0 && <p className="muted">no PTE yet (nothing faulted in)</p>}
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}

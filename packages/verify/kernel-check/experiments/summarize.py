#!/usr/bin/env python3
# Compress rmaplab-kcheck JSON lines into a readable summary (pages grouped by mapcount/flags, ranges).
import json,sys,re
def rng(ms):
    # compress P:R:n lists into P:R:a..b
    d={}
    for m in ms:
        p,r,n=m.rsplit(':',2); d.setdefault(p+':'+r,[]).append(int(n))
    out=[]
    for k,v in d.items():
        v.sort(); s=[]; a=b=v[0]
        for x in v[1:]:
            if x==b+1: b=x
            else: s.append((a,b)); a=b=x
        s.append((a,b))
        out.append(k+':'+','.join(f"{a}" if a==b else f"{a}..{b}" for a,b in s))
    return ' '.join(out)
for line in sys.stdin:
    line=line.rstrip('\n')
    if not line.startswith('{'): print(line); continue
    o=json.loads(line)
    print(f"step {o['step']}:")
    groups={}
    for p in o['pages']:
        key=(p['mapcount'],tuple(p['flags']),len(p['mappings']))
        groups.setdefault(key,[]).extend(p['mappings'])
    for (mc,fl,nm),ms in groups.items():
        print(f"   mapcount={mc} flags={list(fl)} x{len(ms)//nm} pages, each mapped by {nm}: {rng(ms)}")
    if o['absent']: print("   absent:",rng(o['absent']))
    if 'swapped' in o: print("   swapped:",rng(o['swapped']))

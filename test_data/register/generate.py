#!/usr/bin/env python3
"""Generates a council's register as Valueflows JSON-LD, for `commune import`, to measure
how long a council waits for its draft plan (docs/benchmarks.md, "The register").

    python3 test_data/register/generate.py MADE RAW NEEDS > register.jsonld

MADE items are each made by one process (two raw inputs, a quarter hour of one of five
skills, at most 100 runs); RAW items are in the commons (50 to 200 kg each); NEEDS needs for
made items are spread over 40 households with random urgencies; each skill is offered 40
hours. Deterministic (seeded), so runs compare.
"""
import json, sys, random, hashlib
random.seed(1)
n_made, n_raw, n_needs, n_skills = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 5
def h(s): return hashlib.sha256(s.encode()).hexdigest()
ev = lambda s: {"@id": "urn:commune:event:" + h(s)}
me = "urn:commune:member:" + h("me")
t0 = "2026-12-05T00:00:00.000Z"; due = "2027-06-01T00:00:00.000Z"
g = []
items = [f"made{i}" for i in range(n_made)] + [f"raw{i}" for i in range(n_raw)]
for it in items:
    g.append({"@id": ev(it)["@id"], "@type": "vf:ResourceSpecification", "vf:name": it, "vf:defaultUnitOfResource": "kg"})
m = lambda q: {"@type": "om2:Measure", "om2:hasNumericalValue": q, "om2:hasUnit": "kg"}
hrs = lambda q: {"@type": "om2:Measure", "om2:hasNumericalValue": q, "om2:hasUnit": "hour"}
for i in range(n_raw):
    g.append({"@id": ev(f"stock{i}")["@id"], "@type": "vf:EconomicResource", "vf:name": f"store {i}", "vf:conformsTo": ev(f"raw{i}"),
      "vf:accountingQuantity": m(random.randint(50, 200)), "vf:currentLocation": {"vf:name": "Hall"},
      "vf:primaryAccountable": {"@id": "urn:commune:council:" + h("c")}, "commune:addedBy": {"@id": me}, "commune:rulesOfUse": ""})
for i in range(n_made):
    p = ev(f"proc{i}")["@id"]
    g.append({"@id": p, "@type": "vf:RecipeProcess", "vf:name": f"make {i}", "vf:atLocation": {"vf:name": "Hall"},
      "commune:capacity": 100, "commune:postedBy": {"@id": me}, "commune:postedAt": t0})
    flows = [("vf:recipeOutputOf", "vf:produce", f"made{i}", 1)] + [("vf:recipeInputOf", "vf:consume", f"raw{r}", random.choice([0.5, 1, 2])) for r in random.sample(range(n_raw), 2)]
    for k, (link, action, item, q) in enumerate(flows):
        g.append({"@id": f"{p}#flow-{k}", "@type": "vf:RecipeFlow", link: {"@id": p}, "vf:action": action, "commune:order": k,
          "vf:resourceConformsTo": ev(item), "vf:resourceQuantity": m(q)})
    g.append({"@id": f"{p}#flow-3", "@type": "vf:RecipeFlow", "vf:recipeInputOf": {"@id": p}, "vf:action": "vf:work", "commune:order": 3,
      "commune:skill": f"skill{i % n_skills}", "vf:effortQuantity": hrs(0.25)})
for s in range(n_skills):
    g.append({"@id": ev(f"lab{s}")["@id"], "@type": "vf:Intent", "vf:action": "vf:work", "vf:provider": {"@id": me}, "commune:skill": f"skill{s}",
      "vf:effortQuantity": hrs(40), "vf:atLocation": {"vf:name": "Hall"}, "vf:hasBeginning": t0, "vf:hasEnd": due,
      "commune:postedAt": t0, "commune:given": 0, "vf:finished": False})
for n in range(n_needs):
    g.append({"@id": ev(f"need{n}")["@id"], "@type": "vf:Intent", "vf:action": "vf:transfer",
      "vf:receiver": {"@id": f"urn:commune:household:h{n % 40}"}, "vf:resourceConformsTo": ev(f"made{random.randrange(n_made)}"),
      "vf:resourceQuantity": m(random.randint(1, 10)), "vf:atLocation": {"vf:name": "Hall"}, "vf:due": due,
      "commune:urgency": random.choice(["commune:vital", "commune:important", "commune:wanted"]),
      "commune:postedBy": {"@id": me}, "commune:postedAt": t0, "commune:received": 0, "vf:finished": False})
print(json.dumps({"@context": {"vf": "https://w3id.org/valueflows/ont/vf#", "commune": "https://w3id.org/commune/ns#",
  "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/"}, "@graph": g}))

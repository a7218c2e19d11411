#!/usr/bin/env python3
# Issue 36 transport probe (BENCHMARKS.md, "Transport"): 20,000 random 64-d unit vectors in a Milvus 2.3.5
# collection (automatic index), flushed and indexed; recall@10 and mean latency of 50 queries through
# REST /v1/vector/search (with and without "params": {"ef"}) and /api/v1/search on the metrics port
# (ef 16/64/500, with and without guarantee_timestamp). Run against a server started by .ci/milvus.sh:
#   python3 benches/milvus_transport_probe.py
import json, urllib.request, random, math, time
B="http://127.0.0.1:19530/v1/vector"; A="http://127.0.0.1:9091/api/v1"
def call(url, body, method="POST"):
    r=urllib.request.Request(url, data=json.dumps(body).encode(), method=method, headers={"Content-Type":"application/json"})
    return json.loads(urllib.request.urlopen(r).read())
D=64; N=20000; name="probe_ef"
random.seed(1)
def rv():
    v=[random.gauss(0,1) for _ in range(D)]; n=math.sqrt(sum(x*x for x in v)); return [x/n for x in v]
call(B+"/collections/drop",{"collectionName":name})
print(call(B+"/collections/create",{"collectionName":name,"dimension":D,"metricType":"IP","primaryField":"pk","vectorField":"vec"}))
vs=[rv() for _ in range(N)]
ids=[]
for i in range(0,N,1000):
    r=call(B+"/insert",{"collectionName":name,"data":[{"vec":v,"i":i+j} for j,v in enumerate(vs[i:i+1000])]})
    ids+= r["data"]["insertIds"]
print(call(A+"/persist",{"collection_names":[name]}))
for _ in range(120):
    r=call(A+"/index/state",{"collection_name":name},"GET") if False else call(A+"/index/progress",{"collection_name":name,"field_name":"vec"},"GET")
    print(r); 
    if r.get("indexed_rows",0)>=N: break
    time.sleep(2)
qs=[rv() for _ in range(50)]
truth=[]
for q in qs:
    s=sorted(range(N), key=lambda i:-sum(a*b for a,b in zip(q,vs[i])))[:10]; truth.append(set(s))
def rec(params):
    t=0; tm=0
    for q,tr in zip(qs,truth):
        body={"collectionName":name,"vector":q,"limit":10,"outputFields":["i"]}
        if params is not None: body["params"]=params
        t0=time.time(); r=call(B+"/search",body); tm+=time.time()-t0
        t+=len(tr & set(h["i"] for h in r["data"]))
    return t/len(qs)/10, tm/len(qs)*1000
for p in [None, {"ef":16}, {"ef":500}]:
    print(p, rec(p))
def rec9091(ef, gt):
    t=0; tm=0
    for q,tr in zip(qs,truth):
        body={"collection_name":name,"dsl_type":1,"output_fields":["i"],"vector_type":101,"search_params":[{"key":"anns_field","value":"vec"},{"key":"topk","value":"10"},{"key":"params","value":json.dumps({"ef":ef})},{"key":"metric_type","value":"IP"},{"key":"round_decimal","value":"-1"}],"vectors":[q],"dsl":""}
        if gt is not None: body["guarantee_timestamp"]=gt
        t0=time.time(); r=call(A+"/search",body); tm+=time.time()-t0
        import base64
        got=set(json.loads(base64.b64decode(x))["i"] for x in r["results"]["fields_data"][0]["Field"]["Scalars"]["Data"]["JsonData"]["data"])
        t+=len(tr & got)
    return t/len(qs)/10, tm/len(qs)*1000
for ef,gt in [(16,1),(64,1),(500,1),(64,None)]:
    print("9091",ef,gt, rec9091(ef,gt))
print(call(A+"/index",{"collection_name":name},"GET"))

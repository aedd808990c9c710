"""Evaluate filter expressions with mitmproxy's own flowfilter.

Used by TestCompareWithMitmproxy. Reads a JSON file (argv[1]) holding
"exprs" and "flows" (the fields of interceptor-tui flows that filters look
at), builds mitmproxy test flows from them, and prints JSON:

    {"version": "...",
     "urls": [pretty_url per flow],
     "results": [[bool per flow] per expr],
     "errors": [null or message per expr]}
"""

import base64
import json
import sys

from mitmproxy import flow as mflow
from mitmproxy import flowfilter, http, version
from mitmproxy.test import tflow
from mitmproxy.websocket import WebSocketData


def headers(pairs):
    return http.Headers([(n.encode(), v.encode()) for n, v in pairs])


def build(d):
    f = tflow.tflow(resp=True)
    req = f.request
    req.method = d["method"]
    req.scheme = d["scheme"]
    req.host = d["host"]
    req.port = d["port"]
    req.path = d["path"]
    req.headers = headers(d["req_headers"])  # after host: setting host rewrites Host
    req.raw_content = base64.b64decode(d["req_body"] or "")

    resp = d["resp"]
    if resp is None:
        f.response = None
    else:
        f.response.status_code = resp["status"]
        f.response.reason = resp["reason"]
        f.response.headers = headers(resp["headers"])
        f.response.raw_content = base64.b64decode(resp["body"] or "")

    f.error = mflow.Error(d["error"]) if d["error"] else None
    f.marked = ":default:" if d["marked"] else ""
    f.comment = d["comment"]
    f.is_replay = "request" if d["replay"] else None
    f.websocket = WebSocketData() if d["websocket"] else None
    f.client_conn.peername = tuple(d["client"]) if d["client"] else None
    f.server_conn.address = tuple(d["server"]) if d["server"] else None
    return f


def main():
    with open(sys.argv[1]) as fp:
        data = json.load(fp)
    flows = [build(d) for d in data["flows"]]
    results, errors = [], []
    for expr in data["exprs"]:
        try:
            flt = flowfilter.parse(expr)
        except ValueError as e:
            results.append(None)
            errors.append(f"{e}: {e.__cause__}")
            continue
        results.append([bool(flt(f)) for f in flows])
        errors.append(None)
    json.dump(
        {
            "version": version.VERSION,
            "urls": [f.request.pretty_url for f in flows],
            "results": results,
            "errors": errors,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

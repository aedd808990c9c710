// Answer GET /api/user/<id> with made-up JSON; the origin never sees it.
on("request", "~m GET & ~u /api/user/[0-9]+$", (flow) => {
  const id = Number(flow.request.path.match(/\/api\/user\/(\d+)$/)[1]);
  flow.respond(200, {"Content-Type": "application/json", "X-Mock": "mock_endpoint.js"}, {
    id: id,
    name: "Mock User " + id,
    roles: ["tester"],
  });
});

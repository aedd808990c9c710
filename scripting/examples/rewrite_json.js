// Turn a feature flag on in every JSON response (gzip and the other
// encodings are undone and redone by body.text).
on("response", "~t json", (flow) => {
  let data;
  try {
    data = flow.response.body.json;
  } catch (e) {
    console.warn("not JSON after all:", flow.request.url);
    return;
  }
  if (data === null || typeof data !== "object") return;
  data.features = data.features || {};
  data.features.beta = true;
  data.rewritten_by = "rewrite_json.js";
  flow.response.body.json = data;
});

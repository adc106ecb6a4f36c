"""Attention for one post (docs/methods.md §language models, paper fig. 3) as data, and bertviz's head and model views
as HTML that
loads d3, jQuery and require.js from URLs the caller serves (never a CDN).

SDPA attention returns no weights, so the model runs with eager attention for the call and is put back.
The switch is made on the model's config, which every thread serving the model shares (the portal's
post page and its two bertviz frames are three concurrent requests on one loaded model): one switch
at a time, held for the whole forward pass.
"""
from __future__ import annotations

import contextlib
import re
import threading

# bertviz's remote references, matched by their file names (no remote address is written here):
# require.js is a script source; d3 and jQuery are require paths without the .js extension.
REMOTE = {
    "require": re.compile(r"https?://[^\s\"']*/require(?:\.min)?\.js"),
    "d3": re.compile(r"https?://[^\s\"']*/d3(?:\.min)?(?=[\"'])"),
    "jquery": re.compile(r"https?://[^\s\"']*/jquery(?:\.min)?(?=[\"'])"),
}
DECIMALS = 3
# Without it, a second thread finding the model already eager switches nothing, the first thread's exit
# puts SDPA back in the middle of the second one's forward pass, and the second gets the weights of only
# its first layers: transformers drops the layers that return none (5 layers of MiniLM's 6, silently).
_SWITCH = threading.Lock()


@contextlib.contextmanager
def eager_attention(model):
    """Switch every transformers sub-model to eager attention for the duration, one caller at a time."""
    from transformers import PreTrainedModel

    with _SWITCH:
        switched = []
        for module in model.modules():
            if isinstance(module, PreTrainedModel):
                previous = module.config._attn_implementation
                if previous != "eager":
                    module.set_attn_implementation("eager")
                    switched.append((module, previous))
        try:
            yield model
        finally:
            for module, previous in switched:
                module.set_attn_implementation(previous)


def _layer_count(model) -> int:
    from transformers import PreTrainedModel

    return next(m for m in model.modules() if isinstance(m, PreTrainedModel)).config.num_hidden_layers


def attention_data(model, run, tokens: list[str], source: int) -> dict:
    """`run()` returns per-layer attention tensors (1, heads, T, T). Returns plain data:
    tokens, full attention [layer][head][from][to] and the rows from the source token ([CLS] or the last),
    all rounded to 3 decimals."""
    import torch

    with eager_attention(model), torch.no_grad():
        attentions = run()
    if not attentions or attentions[0] is None:
        raise RuntimeError("the model returned no attention weights")
    layers = _layer_count(model)
    if len(attentions) != layers:  # a layer that returns no weights is left out, not given as None
        raise RuntimeError(f"the model returned attention weights for {len(attentions)} of its {layers} layers")
    stacked = torch.stack([a[0] for a in attentions]).double().round(decimals=DECIMALS)  # layers, heads, T, T
    return {"tokens": list(tokens), "source_index": int(source), "source_token": tokens[source],
            "layers": int(stacked.shape[0]), "heads": int(stacked.shape[1]),
            "attention": stacked.tolist(), "from_source": stacked[:, :, source, :].tolist(),
            "mean_from_source": stacked[:, :, source, :].mean(dim=(0, 1)).round(decimals=DECIMALS).tolist()}


def _local_html(html: str, assets: dict) -> str:
    """Point bertviz's require.js, d3 and jQuery at the caller's URLs; refuse to return a CDN reference."""
    missing = {"require", "d3", "jquery"} - set(assets)
    if missing:
        raise ValueError(f"assets needs local URLs for {sorted(missing)}")
    def strip(url):  # require.js paths take no extension
        return re.sub(r"\.js$", "", url)

    html = REMOTE["require"].sub(lambda _: assets["require"], html)
    html = REMOTE["d3"].sub(lambda _: strip(assets["d3"]), html)
    html = REMOTE["jquery"].sub(lambda _: strip(assets["jquery"]), html)
    # Only script sources and require paths: a post's own text may well mention a CDN.
    if re.search(r"""src=["']https?://|:\s*'https?://""", html):
        raise RuntimeError("bertviz HTML still references a CDN: its template changed")
    return _script_safe(html)


def _script_safe(html: str) -> str:
    """The tokens sit in a JSON literal inside bertviz's last <script>: escape "</" and "<!--" there (the
    same string in JavaScript), so a token such as "</script>" cannot end the script early."""
    head, start, rest = html.rpartition('<script type="text/javascript">')
    script, end, tail = rest.rpartition("</script>")
    if not start or not end:
        raise RuntimeError("bertviz HTML has no inline script: its template changed")
    return head + start + script.replace("</", "<\\/").replace("<!--", "<\\!--") + end + tail


def _view_html(view: str, attention: dict, assets: dict, max_tokens: int) -> str:
    import torch

    tokens = attention["tokens"]
    if len(tokens) > max_tokens:
        raise ValueError(
            f"{len(tokens)} tokens exceed the cap of {max_tokens}: pass a shorter post or a lower cap to attention()"
        )
    # float64 so that json.dumps writes 0.123, not 0.12300000339746475 (3x smaller HTML).
    layers = [torch.tensor([layer], dtype=torch.float64) for layer in attention["attention"]]
    if view == "head":
        from bertviz import head_view

        result = head_view(layers, tokens, html_action="return")
    else:
        from bertviz import model_view

        result = model_view(layers, tokens, html_action="return", display_mode="light")  # as the head view and the page
    return _local_html(result.data, assets)


def head_view_html(attention: dict, assets: dict, max_tokens: int = 40) -> str:
    """bertviz head view of `attention` (from attention_data); `assets` = {"require", "d3", "jquery"} URLs."""
    return _view_html("head", attention, assets, max_tokens)


def model_view_html(attention: dict, assets: dict, max_tokens: int = 40) -> str:
    """bertviz model view (every layer and head as thumbnails); same assets as head_view_html."""
    return _view_html("model", attention, assets, max_tokens)

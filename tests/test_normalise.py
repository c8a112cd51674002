from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kg.extract.pipeline import Extraction
from kg.normalise import acronym_key, concept_key, normalise, slug
from kg.records import Mention


def _ex(pid: str, texts: list[tuple[str, str]], abbrs: list[tuple[str, str]] = ()) -> Extraction:
    ms = []
    pos = 0
    for text, label in texts:
        ms.append(Mention(pid, pos, pos + len(text), text, label))
        pos += len(text) + 1
    return Extraction(pid, ms, list(abbrs))


def test_normalise_case_plural_hyphen_and_acronym_merge():
    exs = [
        _ex("a", [("Large Language Model", "METHOD"), ("LLM", "METHOD")], [("Large Language Model", "LLM")]),
        _ex("b", [("large language models", "METHOD"), ("LLMs", "METHOD")]),
        _ex("c", [("Mixture-of-Experts", "METHOD"), ("MoE", "METHOD")], [("Mixture-of-Experts", "MoE")]),
        _ex("d", [("mixture of experts", "METHOD")]),
    ]
    concepts, mentions = normalise(exs)
    llm = concepts["large-language-model"]
    assert set(llm.aliases) == {"Large Language Model", "LLM", "large language models", "LLMs"}
    assert llm.paper_count == 2
    assert llm.label == "Large Language Model"
    moe = [c for c in concepts.values() if "MoE" in c.aliases]
    assert len(moe) == 1 and set(moe[0].aliases) == {"Mixture-of-Experts", "MoE", "mixture of experts"}


def test_normalise_two_sams_stay_two():
    exs = [
        _ex("a", [("Segment Anything Model", "METHOD"), ("SAM", "METHOD")], [("Segment Anything Model", "SAM")]),
        _ex(
            "b",
            [("Sharpness-Aware Minimization", "METHOD"), ("SAM", "METHOD")],
            [("Sharpness-Aware Minimization", "SAM")],
        ),
    ]
    concepts, mentions = normalise(exs)
    sam = {m.paper_id: m.concept for m in mentions if m.text == "SAM"}
    assert sam["a"] != sam["b"]
    assert concepts[sam["a"]].label == "Segment Anything Model"
    assert concepts[sam["b"]].label == "Sharpness-Aware Minimization"


def test_normalise_acronym_without_long_form_takes_majority_sense_or_is_ambiguous():
    seg = ("Segment Anything Model", "SAM")
    sharp = ("Sharpness-Aware Minimization", "SAM")
    exs = [
        _ex("a", [(seg[0], "METHOD"), ("SAM", "METHOD")], [seg]),
        _ex("b", [(seg[0], "METHOD"), ("SAM", "METHOD")], [seg]),
        _ex("c", [(sharp[0], "METHOD"), ("SAM", "METHOD")], [sharp]),
        _ex("d", [("SAM", "METHOD")]),
    ]
    _, mentions = normalise(exs)
    assert next(m.concept for m in mentions if m.paper_id == "d") == "segment-anything-model"
    _, mentions = normalise([exs[0], exs[2], exs[3]])
    concepts, mentions = normalise([exs[0], exs[2], exs[3]])
    d = next(m.concept for m in mentions if m.paper_id == "d")
    assert concepts[d].ambiguous


def test_normalise_type_is_majority_label():
    exs = [_ex("a", [("ImageNet", "DATASET")]), _ex("b", [("ImageNet", "DATASET")]), _ex("c", [("ImageNet", "METHOD")])]
    concepts, mentions = normalise(exs)
    assert concepts["imagenet"].type == "DATASET"
    assert {m.label for m in mentions} == {"DATASET"}


def test_a_coined_name_keeps_its_plural_and_a_phrase_takes_the_singular():
    """ "nuScenes" is a name, not the plural of "nuScene"; "vision transformers" is a plural."""
    exs = [_ex(p, [("nuScenes", "DATASET")]) for p in "abc"] + [_ex("d", [("nuScene", "DATASET")])]
    exs += [_ex(p, [("Vision Transformers", "METHOD")]) for p in "ef"] + [_ex("g", [("vision transformer", "METHOD")])]
    concepts, _ = normalise(exs)
    assert {c.label for c in concepts.values()} == {"nuScenes", "vision transformer"}


def test_a_capitalised_name_is_kept_unless_its_lower_case_form_is_seen():
    """Capitals lose only to the same words in lower case: "Codex" (not the rarer "CoDEx"), but
    "speculative decoding" over a sentence-initial "Speculative decoding"."""
    exs = [_ex(p, [("Codex", "METHOD")]) for p in "abc"] + [_ex("d", [("CoDEx", "METHOD")])]
    exs += [_ex(p, [("Speculative decoding", "METHOD")]) for p in "ef"] + [
        _ex("g", [("speculative decoding", "METHOD")])
    ]
    concepts, _ = normalise(exs)
    assert {c.label for c in concepts.values()} == {"Codex", "speculative decoding"}


def test_normalise_acronym_key():
    assert acronym_key("LLMs") == "llm" and acronym_key("SAM") == "sam"


@given(st.text(max_size=60))
def test_normalise_concept_key_is_idempotent(text):
    k = concept_key(text)
    assert concept_key(k) == k


@given(
    st.lists(
        st.sampled_from(
            [
                "LLM",
                "LLMs",
                "large language models",
                "Large Language Model",
                "MoE",
                "mixture of experts",
                "SAM",
                "ImageNet",
            ]
        ),
        min_size=1,
        max_size=12,
    )
)
def test_normalise_is_order_independent(texts):
    exs = [_ex(f"p{i}", [(t, "METHOD")]) for i, t in enumerate(texts)]
    a, _ = normalise(exs)
    b, _ = normalise(list(reversed(exs)))
    assert {k: (c.label, sorted(c.aliases), c.paper_count) for k, c in a.items()} == {
        k: (c.label, sorted(c.aliases), c.paper_count) for k, c in b.items()
    }


@given(st.text(max_size=40))
def test_normalise_slug_is_iri_safe(key):
    s = slug(key)
    assert s and all(c.isascii() and (c.isalnum() or c == "-") for c in s)


def test_normalise_generic_heads_never_become_concepts():
    exs = [
        _ex(
            "a",
            [
                ("method", "METHOD"),
                ("Framework", "METHOD"),
                ("performance", "METRIC"),
                ("our method", "METHOD"),
                ("LoRA", "METHOD"),
            ],
        )
    ]
    concepts, mentions = normalise(exs)
    assert list(concepts) == ["lora"]
    assert [m.text for m in mentions] == ["LoRA"]


def test_normalise_generic_tail_is_cut_when_the_rest_is_a_concept():
    exs = [
        _ex("a", [("speculative decoding method", "METHOD")]),
        _ex("b", [("speculative decoding", "METHOD")]),
        _ex("c", [("matching framework", "METHOD")]),
    ]
    concepts, _ = normalise(exs)
    assert set(concepts["speculative-decoding"].aliases) == {"speculative decoding method", "speculative decoding"}
    assert "matching-framework" in concepts  # "matching" alone is no concept here: nothing to merge into


def test_normalise_generic_tail_is_cut_when_the_rest_says_enough_alone():
    exs = [
        _ex(
            "a",
            [
                ("symmetric clipping method", "METHOD"),
                ("machine translation tasks", "TASK"),
                ("new approach", "METHOD"),
            ],
        )
    ]
    concepts, _ = normalise(exs)
    assert concepts["symmetric-clipping"].label == "symmetric clipping"
    assert set(concepts["symmetric-clipping"].aliases) == {"symmetric clipping method"}
    assert concepts["machine-translation"].label == "machine translation"
    assert "new" not in concepts  # one word: the tail stays unless "new" were a concept of its own


def test_normalise_steps_abilities_and_points_are_tails_too():
    exs = [
        _ex(
            "a",
            [
                ("checkpoint merging step", "METHOD"),
                ("reasoning planning abilities", "TASK"),
                ("macro-F1 points", "METRIC"),
                ("data point", "METHOD"),
            ],
        )
    ]
    concepts, _ = normalise(exs)
    assert concepts["checkpoint-merging"].label == "checkpoint merging"
    assert concepts["reasoning-planning"].label == "reasoning planning"
    assert concepts["macro-f1"].label == "macro-F1"
    assert "data-point" in concepts  # one plain word before the tail: it stays whole


def test_normalise_a_name_before_a_generic_tail_is_the_concept():
    concepts, _ = normalise([_ex("a", [("HumanEval benchmark", "DATASET"), ("MESA method", "METHOD")])])
    assert concepts["humaneval"].label == "HumanEval" and concepts["mesa"].label == "MESA"


def test_normalise_transformer_and_a_transformer_variant_stay_apart():
    exs = [
        _ex("a", [("Transformer", "METHOD"), ("Transformers", "METHOD")]),
        _ex(
            "b",
            [("Single-Head Vision Transformer", "METHOD"), ("SHViT", "METHOD"), ("Transformer", "METHOD")],
            [("Single-Head Vision Transformer", "SHViT")],
        ),
    ]
    concepts, mentions = normalise(exs)
    assert concepts["transformer"].paper_count == 2
    assert set(concepts["transformer"].aliases) == {"Transformer", "Transformers"}
    shvit = concepts["single-head-vision-transformer"]
    assert set(shvit.aliases) == {"Single-Head Vision Transformer", "SHViT"}


def test_normalise_x_based_model_names_x():
    exs = [
        _ex(
            "a",
            [("large language models", "METHOD"), ("LLMs", "METHOD"), ("LLM-based methods", "METHOD")],
            [("large language models", "LLMs")],
        ),
        _ex("b", [("Transformer-based architectures", "METHOD"), ("Transformer", "METHOD")]),
    ]
    concepts, mentions = normalise(exs)
    assert {m.text: m.concept for m in mentions}["LLM-based methods"] == "large-language-model"
    assert "Transformer-based architectures" in concepts["transformer"].aliases


def test_normalise_model_after_a_name_is_cut_but_not_after_words():
    concepts, _ = normalise(
        [_ex("a", [("LLaMA-3.1 8B model", "METHOD"), ("BERT models", "METHOD"), ("language model", "METHOD")])]
    )
    assert "LLaMA-3.1 8B" in {c.label for c in concepts.values()}
    assert concepts["bert"].label == "BERT"
    assert "language-model" in concepts


def test_normalise_library_or_layer_after_a_name_is_cut_but_not_after_words():
    concepts, _ = normalise(
        [
            _ex(
                "a",
                [
                    ("ConstrINT library", "METHOD"),
                    ("DeepSpeed toolkit", "METHOD"),
                    ("optimization library", "METHOD"),
                    ("MLP layers", "METHOD"),
                    ("MatMul operations", "METHOD"),
                    ("attention layer", "METHOD"),
                ],
            )
        ]
    )
    assert concepts["constrint"].label == "ConstrINT" and "ConstrINT library" in concepts["constrint"].aliases
    assert concepts["deepspeed"].label == "DeepSpeed"
    assert concepts["mlp"].label == "MLP" and concepts["matmul"].label == "MatMul"
    assert "optimization-library" in concepts and "attention-layer" in concepts  # no name before the tail


def test_normalise_a_study_of_x_names_x():
    exs = [
        _ex("a", [("An Exploration of 8-Bit Training", "METHOD"), ("8-bit training", "METHOD")]),
        _ex("b", [("A Study of Symmetric Clipping Methods", "METHOD")]),
    ]
    concepts, mentions = normalise(exs)
    assert {m.concept for m in mentions if m.paper_id == "a"} == {"8-bit-training"}
    assert "An Exploration of 8-Bit Training" in concepts["8-bit-training"].aliases
    assert concepts["symmetric-clipping"].label == "Symmetric Clipping"


def test_an_acronym_labels_its_concept_when_papers_mostly_write_it():
    """GSM8K, written alone by 5 times as many papers as write its long form, is the label; PPO, not."""
    gsm = [_ex(p, [("GSM8K", "DATASET")]) for p in "abcde"]
    gsm += [_ex("f", [("Grade School Math 8K", "DATASET"), ("GSM8K", "DATASET")], [("Grade School Math 8K", "GSM8K")])]
    ppo = [_ex(p, [("PPO", "METHOD")]) for p in "gh"]
    ppo += [
        _ex(
            "i",
            [("proximal policy optimization", "METHOD"), ("PPO", "METHOD")],
            [("proximal policy optimization", "PPO")],
        )
    ]
    concepts, _ = normalise(gsm + ppo)
    assert {c.label for c in concepts.values()} == {"GSM8K", "proximal policy optimization"}


def test_a_label_keeps_the_tail_a_merge_cut_when_papers_write_it():
    """Forms merged under a key whose tail was cut ("multimodal large language") are named by the
    form papers write most, the tail included, not by a rare form that happens to equal the key."""
    from collections import Counter

    from kg.normalise import _prefer_label

    forms = Counter({"multimodal large language model": 40, "multimodal large language models": 300})
    forms.update({"multimodal large language": 3, "MLLMs": 4333})
    assert _prefer_label(forms, "multimodal large language") == "multimodal large language model"


def test_one_upper_case_title_does_not_cut_a_name_tail_corpus_wide():
    """At corpus scale some paper writes "VISION-LANGUAGE MODELS" in an upper-case title; that mention
    must not turn every vision-language model into the adjective "vision-language"."""
    exs = [
        _ex("a", [("Vision-Language Models", "METHOD"), ("VLMs", "METHOD")], [("Vision-Language Models", "VLMs")]),
        _ex("b", [("vision-language tasks", "TASK"), ("Vision-Language", "TASK")]),
        _ex("c", [("VISION-LANGUAGE MODELS", "METHOD")]),
        _ex("d", [("LLaMA-3.1 8B model", "METHOD"), ("LLaMA-3.1 8B", "METHOD")]),
    ]
    _, mentions = normalise(exs)
    of = {m.text: m.concept for m in mentions}
    assert of["Vision-Language Models"] == of["VLMs"] == of["VISION-LANGUAGE MODELS"] == "vision-language-model"
    assert of["vision-language tasks"] == "vision-language"
    assert of["LLaMA-3.1 8B model"] == of["LLaMA-3.1 8B"]  # a name's "model" tail is still cut

"""The tie-break between snippet sentences: cheap, and the same answer whether a sentence was kept or not."""

from __future__ import annotations

import numpy as np

from index.search.closeness import SentenceVectors, probe


def test_a_long_sentence_is_compared_by_its_opening_words_cut_between_words():
    sentence = "The bootloader now maps the kernel at a higher half address " * 10
    short = probe(sentence, 60)
    assert len(short) <= 60 and sentence.startswith(short) and sentence[len(short)] == " "
    assert probe("a short one", 60) == "a short one"


class _Counting:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, embedder):
        self.embedder, self.texts = embedder, []

    def encode(self, texts):
        self.texts += texts
        return self.embedder.encode(texts)


def test_kept_sentences_are_not_encoded_again_and_give_the_same_similarities(embedder):
    counting = _Counting(embedder)
    vectors = SentenceVectors(counting, size=3)
    question = embedder.encode_query("how does speculative decoding speed up inference")
    sentences = ["Speculative decoding drafts tokens with a small model.", "The weather was fine.",
                 "A large model then checks the draft in one pass."]
    first = vectors.similarities(question, sentences)
    assert len(counting.texts) == 3
    again = vectors.similarities(question, [sentences[2], sentences[0], "Something new entirely."])
    assert counting.texts[3:] == ["Something new entirely."]  # only what was not kept
    assert again[sentences[0]] == first[sentences[0]] and again[sentences[2]] == first[sentences[2]]
    fresh = embedder.encode(sentences) @ question
    assert np.allclose([first[s] for s in sentences], fresh, atol=1e-5)
    assert max(first, key=first.get) == sentences[0]
    vectors.similarities(question, sentences)  # the oldest went when a fourth came: size 3
    assert counting.texts[4:] == ["The weather was fine."]

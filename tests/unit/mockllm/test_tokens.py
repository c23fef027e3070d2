from harness.mockllm._tokens import count_tokens, split_for_stream, truncate_to_tokens


def test_counts_are_deterministic_and_grow_with_text() -> None:
    assert count_tokens("") == 0
    assert count_tokens(None) == 0
    assert count_tokens("Hello, world!") == 4  # Hello , world !
    assert count_tokens("internationalization") == 4  # one long word costs one token per six characters
    assert count_tokens("a b c") < count_tokens("a b c d e f")


def test_truncation_respects_the_limit_and_keeps_a_prefix() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    for limit in range(count_tokens(text) + 2):
        cut = truncate_to_tokens(text, limit)
        assert text.startswith(cut)
        assert count_tokens(cut) <= limit
    assert truncate_to_tokens(text, 3) == "The quick brown"


def test_stream_pieces_reassemble_exactly() -> None:
    for text in ["Hello there,  general   Kenobi.\n\nBye", "  leading", "trailing  ", "x", "\n"]:
        pieces = split_for_stream(text)
        assert "".join(pieces) == text
        assert all(pieces)
    assert split_for_stream("one two three") == ["one ", "two ", "three"]

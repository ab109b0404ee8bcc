"""The embedded benchmark's tokenizer: byte-level BPE trained locally, with a chat template.

It is an ordinary ``PreTrainedTokenizerFast`` saved with ``save_pretrained``, so every other part
of the project formats questions with ``apply_chat_template`` exactly as it would for a hub
instruct model.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

USER, ASSISTANT, END, PAD = "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"

# A user turn, then the assistant's answer closed by <|end|> (the EOS). With
# add_generation_prompt the text stops right after <|assistant|>, so the model's greedy
# continuation is the answer followed by EOS.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}" + USER + "{{ message['content'] }}"
    "{%- elif message['role'] == 'assistant' -%}"
    + ASSISTANT
    + "{{ message['content'] }}"
    + END
    + "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}" + ASSISTANT + "{%- endif -%}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Train a GPT-2-style byte-level BPE on ``texts`` (deterministic for the same texts)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    # trim_offsets=False: a token " Lima" keeps its space in its offsets; span labelling
    # looks at non-space characters, so both conventions label the same tokens.
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, END, USER, ASSISTANT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=END,
        pad_token=PAD,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[USER, ASSISTANT],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "right"
    return fast

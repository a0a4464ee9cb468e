"""The diagrams' words in each language: English in the diagram modules, Chinese here.

Every human-language string a diagram draws (title, labels, notes, legends, the SVG's title
and description) goes through :func:`t`, usually as ``_ = translator(language)`` and
``_("position {i}", i=i)``. The English text is the key; :data:`ZH_CN` gives its Chinese, in
the book's vocabulary (``locale/zh_CN/terms.tsv``). A ``\\n`` in a string separates the lines
of a block of text, so a translation may use more or fewer lines than the English. Code
names, tensor shapes, token strings and numbers are not looked up: they are the same in
every language.
"""

from __future__ import annotations

from collections.abc import Callable

#: The languages every diagram is drawn in (Sphinx's names), and their BCP 47 tags for xml:lang.
LANGUAGES = ("en", "zh_CN")
LANGUAGE_TAGS = {"en": "en", "zh_CN": "zh-CN"}

#: The English strings looked up so far, by language (tests check that none of the table is stale).
USED: dict[str, set[str]] = {language: set() for language in LANGUAGES}


def t(text: str, language: str, **fields: object) -> str:
    """``text`` in ``language``, then ``str.format``-ed with ``fields`` (if any).

    Raises KeyError for a string the language's table lacks, so that no English is left in a
    translated drawing."""
    USED[language].add(text)
    if language != "en":
        table = TABLES[language]
        if text not in table:
            raise KeyError(f"no {language} text for {text!r}: add it to scripts/figures/strings.py")
        text = table[text]
    return text.format(**fields) if fields else text


def translator(language: str) -> Callable[..., str]:
    """``_(text, **fields)``: :func:`t` in ``language``."""
    def _(text: str, **fields: object) -> str:
        return t(text, language, **fields)
    return _


ZH_CN: dict[str, str] = {
    # causal_mask
    "The causal mask": "因果掩码",
    "Three T by T tables for the tokens 'Building rapport is a fundamental', queries as rows "
    "and keys as columns. The scores fill the whole table. The mask replaces every score "
    "above the diagonal (a key later than its query) with minus infinity. After the softmax "
    "those entries are exactly 0 and each row's weights, shared among the keys up to and "
    "including the query's own position, sum to 1.":
        "词元“Building rapport is a fundamental”的三张 T×T 表，行是查询，列是键。"
        "注意力分数填满整张表。掩码把对角线以上的每个分数（键的位置在查询之后）换成负无穷。"
        "经过 softmax 后，这些位置恰好为 0；每行的权重只分给查询自身位置及之前的键，和为 1。",
    "The causal mask: query t may attend to key s only if s ≤ t": "因果掩码：查询 t 只能关注 s ≤ t 的键 s",
    "scores": "注意力分数",
    "masked scores": "掩码后的分数",
    "weights": "注意力权重",
    "key (column) →": "键（列）→",
    "query (row) ↓": "查询（行）↓",
    "every query against every key:\nposition t would see t + 1": "每个查询与每个键都打分：\n位置 t 能看到 t + 1",
    "keys after the query (s > t)\nare set to −∞": "查询之后的键（s > t）\n被设为 −∞",
    "exactly 0 above the diagonal;\neach row still sums to 1": "对角线以上恰好为 0；\n每行之和仍为 1",
    "mask = torch.tril(torch.ones(T, T)): True on and below the diagonal;"
    "  scores.masked_fill(~mask, -inf)":
        "mask = torch.tril(torch.ones(T, T))：对角线及以下为 True；  scores.masked_fill(~mask, -inf)",
    # gpt_data_flow
    "The GPT data flow, with tensor shapes": "GPT 的数据流与张量形状",
    "Token ids of shape (B, T) go through the token embedding to (B, T, C); the position "
    "vectors (T, C) are added; n_layers Transformer blocks keep the shape (B, T, C), each "
    "adding multi-head attention and a feed-forward network to the residual stream after a "
    "layer norm; a final layer norm and a linear head give logits of shape (B, T, vocab_size). A table "
    "gives the sizes and switches of Chapter 6's default model, the trained book model and GPT-2: "
    "sinusoidal or learned positions, and whether the output layer is tied to the token embedding.":
        "形状为 (B, T) 的词元 ID 经词元嵌入变为 (B, T, C)，再加上位置向量 (T, C)；n_layers 个 "
        "Transformer 块保持形状 (B, T, C)，每个块先做层归一化，再把多头注意力和前馈网络的输出加到残差流上；"
        "最后的层归一化和线性输出层给出形状为 (B, T, vocab_size) 的 logits。一张表列出第 6 章默认模型、"
        "训练好的本书模型和 GPT-2 的规模与开关：正弦还是可学习的位置编码，以及输出层是否与词元嵌入共享权重。",
    "GPT: from token ids to next-token scores": "GPT：从词元 ID 到下一个词元的分数",
    "B: batch size  ·  T: tokens per sequence (≤ context_length)  ·  C = d_model":
        "B：批大小  ·  T：每个序列的词元数（≤ context_length）  ·  C = d_model",
    "token ids  idx": "词元 ID  idx",
    "token embedding": "词元嵌入",
    "positions": "位置向量",
    "sinusoidal table or pos_emb": "正弦表或 pos_emb",
    "same for every sequence": "每个序列都相同",
    "Block": "块",
    "repeated n_layers times": "重复 n_layers 次",
    "residual stream": "残差流",
    "multi-head attention": "多头注意力",
    "tokens exchange information": "词元之间交换信息",
    "feed-forward  ffn": "前馈网络  ffn",
    "hidden layer: (B, T, 4·C)": "隐藏层：(B, T, 4·C)",
    "each token on its own": "每个词元单独计算",
    "every arrow\nin the block:": "块内每个箭头：",
    "final LayerNorm  ln_f": "最终 LayerNorm  ln_f",
    "linear head": "线性输出层",
    "a score for every possible next token": "每个可能的下一个词元各一个分数",
    "Sizes in the book": "书中的模型规模",
    "Ch. 6": "第 6 章",
    "Ch. 7": "第 7 章",
    "yes": "是",
    "no": "否",
    "Ch. 6: GPTConfig()  ·  Ch. 7: the trained book model": "第 6 章：GPTConfig()  ·  第 7 章：训练好的本书模型",
    "tie_weights: head.weight is tok_emb.weight": "tie_weights：head.weight 就是 tok_emb.weight",
    # queries_keys_values
    "Queries, keys and values in one attention head": "一个注意力头中的查询、键和值",
    "Each token's vector x (d_model channels) is mapped by three learned matrices to a "
    "query, a key and a value of d_head channels. Queries times keys, divided by the square "
    "root of d_head, give a T by T table of scores; a softmax along each row turns them into "
    "weights that sum to 1; the weights mix the values into one output vector per token.":
        "每个词元的向量 x（d_model 个通道）经三个可学习的矩阵映射为 d_head 个通道的查询、键和值。"
        "查询乘以键，再除以 d_head 的平方根，得到 T×T 的注意力分数表；沿每行做 softmax，"
        "把分数变成和为 1 的权重；权重把值混合起来，每个词元得到一个输出向量。",
    "One attention head: queries, keys and values": "一个注意力头：查询、键和值",
    "Chapter 4's sentence, first T = 4 tokens; shapes for a batch of B sequences":
        "第 4 章的句子，取前 T = 4 个词元；形状按一个含 B 个序列的批次给出",
    "query: what token t looks for": "查询：词元 t 在找什么",
    "key: what token s offers": "键：词元 s 能提供什么",
    "value: what token s hands over": "值：词元 s 交出什么",
    "each W: d_model × d_head": "每个 W：d_model × d_head",
    "rows: queries, columns: keys": "行：查询，列：键",
    "each row sums to 1": "每行之和为 1",
    "each output row is a weighted": "每个输出行是",
    "mix of the value rows": "各值行的加权混合",
    # residual_pre_post_norm
    "The residual stream: post-norm against pre-norm": "残差流：后归一化与前归一化",
    "Two Transformer blocks side by side, input at the top. Post-norm, the original "
    "Transformer: each sublayer's output is added to x and the sum then goes through a "
    "layer norm, so the residual path passes through two layer norms per block. Pre-norm, "
    "GPT-2 and this book: each sublayer reads a layer-normalised copy of x and adds its "
    "output back, so the residual stream is a plain sum from the embeddings to the final "
    "layer norm.":
        "两个并排的 Transformer 块，输入在上方。后归一化（原始 Transformer）：每个子层的输出加到 x 上，"
        "和再经过层归一化，所以残差路径在每个块中经过两次层归一化。前归一化（GPT-2 和本书）："
        "每个子层读取 x 经层归一化后的副本，再把输出加回去，所以残差流从嵌入到最终的层归一化只是一个简单的和。",
    "pre-norm (GPT-2, this book)": "前归一化（GPT-2、本书）",
    "post-norm (original Transformer)": "后归一化（原始 Transformer）",
    "multi-head": "多头",
    "attention": "注意力",
    "feed-forward": "前馈",
    "network": "网络",
    "next block, then": "下一个块，最后是",
    "final LayerNorm ln_f": "最终的 LayerNorm ln_f",
    "residual path": "残差路径",
    "The stream is only ever added to: a plain sum\n"
    "from the embeddings to ln_f, so the gradient\n"
    "reaches the first layer directly.":
        "残差流只被累加：从嵌入到 ln_f 是一个简单的和，\n所以梯度能直接到达第一层。",
    "Every sum is normalised: the residual path\n"
    "passes through two layer norms per block;\n"
    "deep stacks need a careful learning-rate warm-up.":
        "每个和都被归一化：残差路径在每个块中\n经过两次层归一化；层数多时需要\n谨慎的学习率预热。",
    "next block": "下一个块",
    # kv_cache
    "The KV cache during generation": "生成过程中的 KV 缓存",
    "Three calls of the model. The prefill runs the 4-token prompt at once, computing a query, "
    "key and value for each position and storing the keys and values. The token sampled from "
    "the last position's logits is the next call's only input: each following step computes "
    "one query, one key and one value, appends the key and value to the cache, and the query "
    "attends over every cached key, so the cache grows by one position per step. When the "
    "cache holds context_length = {L} positions, the next call starts a new cache from the "
    "last {keep} tokens (one prefill at positions 0 to {last}) and goes on one token at a time.":
        "模型的三次调用。预填充一次处理含 4 个词元的提示，为每个位置计算查询、键和值，并存下键和值。"
        "从最后一个位置的 logits 采样出的词元是下一次调用唯一的输入：之后的每一步只计算一个查询、"
        "一个键和一个值，把键和值追加到缓存，查询关注缓存中的所有键，所以缓存每步增长一个位置。"
        "当缓存存满 context_length = {L} 个位置时，下一次调用用最后 {keep} 个词元重新建立缓存"
        "（在位置 0 到 {last} 做一次预填充），然后继续每次一个词元。",
    "The KV cache: compute each key and value once, then reuse it": "KV 缓存：每个键和值只算一次，之后重复使用",
    "one cache per block; keys and values of shape (B, n_heads, length, d_head)":
        "每个块一个缓存；键和值的形状为 (B, n_heads, length, d_head)",
    "position {i}": "位置 {i}",
    "prefill": "预填充",
    "the prompt in one pass": "一次处理整个提示",
    "step 1": "第 1 步",
    "step 2": "第 2 步",
    "the token just sampled": "刚采样出的词元",
    "4 queries, causal mask": "4 个查询，因果掩码",
    "stores 4 keys and values": "存下 4 个键和值",
    "q{i} attends over k0 … k{i}": "q{i} 关注 k0 … k{i}",
    "appends k{i}, v{i}": "追加 k{i}、v{i}",
    "sample from position {i}’s logits: “{word}”": "从位置 {i} 的 logits 采样：“{word}”",
    "when the cache is full": "缓存已满时",
    "= context_length: no position": "= context_length：没有位置",
    "left for the next token": "留给下一个词元",
    "positions 0 … {last}, all in use": "位置 0 … {last}，全部占用",
    "a new cache: the last {keep} tokens (context_length // 2)": "新缓存：最后 {keep} 个词元（context_length // 2）",
    "one prefill at positions 0 … {last}, then one token per step again":
        "在位置 0 … {last} 做一次预填充，然后又是每步一个词元",
    "computed in this call": "本次调用中计算",
    "read from the cache": "从缓存读取",
    "without a cache, every step recomputes k, v of all positions": "没有缓存时，每一步都要重算所有位置的 k、v",
    # byte_pair_merges
    "Byte-pair merges on Chapter 1's toy text": "第 1 章玩具文本上的字节对合并",
    "The text 'a seller sells; sellers sell, and selling sells.' starts as 48 single "
    "characters. Each step merges the most frequent pair of neighbouring symbols into a new "
    "one: space and s, then ' s' and e, ' se' and l, ' sel' and l, ' sell' and e, ' selle' "
    "and r, ' sell' and s. The word ' sellers' shrinks from 8 symbols to 2, ' sells' to 1, "
    "and the whole text from 48 symbols to 18.":
        "文本“a seller sells; sellers sell, and selling sells.”起初是 48 个单个字符。"
        "每一步把出现最多的相邻符号对合并成一个新符号：先是空格和 s，然后是 ' s' 和 e、' se' 和 l、"
        "' sel' 和 l、' sell' 和 e、' selle' 和 r、' sell' 和 s。单词 ' sellers' 从 8 个符号缩短为 2 个，"
        "' sells' 缩短为 1 个，整段文本从 48 个符号缩短为 18 个。",
    "Byte-pair encoding: merge the most frequent pair, again and again": "字节对编码：一次又一次地合并出现最多的符号对",
    "Chapter 1's toy text: \u201c{toy}\u201d   (␣ is a space)": "第 1 章的玩具文本：“{toy}”   （␣ 表示空格）",
    "step": "步骤",
    "merged pair (count)": "合并的符号对（次数）",
    "the word ␣sellers": "单词 ␣sellers",
    "the word ␣sells": "单词 ␣sells",
    "symbols in text": "文本符号数",
    "single characters": "单个字符",
    "the symbol this step creates: a new entry in the vocabulary": "这一步新建的符号：词表中的一个新条目",
    # data_parallel
    "Data parallelism on two ranks": "两个 rank 上的数据并行",
    "A global batch of 16 windows is split between two ranks: rank 0 takes windows 0, 2, 4 and "
    "so on, rank 1 windows 1, 3, 5 and so on, 8 each. Each rank holds a full copy of the model and "
    "computes the gradient of its own 8 windows, g0 and g1. An all-reduce gives every rank the mean "
    "(g0 + g1) / 2, which is the gradient of the whole batch, so both ranks apply the same AdamW "
    "update and their copies stay identical. Rank 0 alone writes the checkpoint.":
        "含 16 个窗口的全局批次分给两个 rank：rank 0 取窗口 0、2、4……，rank 1 取窗口 1、3、5……，各 8 个。"
        "每个 rank 持有模型的完整副本，计算自己 8 个窗口的梯度 g0 和 g1。all-reduce 让每个 rank 都得到平均值 "
        "(g0 + g1) / 2，也就是整个批次的梯度，所以两个 rank 执行相同的 AdamW 更新，副本始终一致。"
        "只有 rank 0 写检查点。",
    "Data parallelism: a full copy per rank, a share of each batch": "数据并行：每个 rank 一份完整副本，分担每个批次",
    "two ranks (processes); DistributedSampler's split; gradients averaged by an all-reduce":
        "两个 rank（进程）；按 DistributedSampler 划分；梯度由 all-reduce 求平均",
    "global batch: 16 windows": "全局批次：16 个窗口",
    "(B, T) = (16, 16), the same on every rank": "(B, T) = (16, 16)，每个 rank 上都相同",
    "windows 0, 2, 4, ..., 14": "窗口 0, 2, 4, ..., 14",
    "windows 1, 3, 5, ..., 15": "窗口 1, 3, 5, ..., 15",
    "{rank}: {share}": "{rank}：{share}",
    "(8, 16): its half of the batch": "(8, 16)：批次的一半",
    "a full copy of the GPT": "GPT 的完整副本",
    "forward, loss, backward": "前向、损失、反向",
    "gradient {g} of its 8 windows": "自己 8 个窗口的梯度 {g}",
    "AdamW step with g": "用 g 做一步 AdamW",
    "the same update on both ranks": "两个 rank 上的更新相同",
    "all-reduce: every rank receives g = (g0 + g1) / 2": "all-reduce：每个 rank 都得到 g = (g0 + g1) / 2",
    "the mean of the halves' gradients = the gradient of the whole batch": "两半梯度的平均值 = 整个批次的梯度",
    "rank 0 writes the checkpoint": "rank 0 写检查点",
    "atomically: a temporary file, then rename": "原子地写：先写临时文件，再重命名",
    "rank 1 writes nothing: its weights are\nidentical to rank 0's":
        "rank 1 什么都不写：\n它的权重与 rank 0 的完全相同",
    "with W ranks: windows r, r + W, r + 2W, ...; g = (g0 + ... + g(W-1)) / W":
        "W 个 rank 时：rank r 取窗口 r, r + W, r + 2W, ...；g = (g0 + ... + g(W-1)) / W",
    # multi_head_split
    "Splitting into heads and joining them back": "拆分成多个头，再拼接回来",
    "The input x of shape (B, T, C) is projected to queries, keys and values, each (B, T, C). "
    "view cuts each token's C = {C} channels into n_heads = {H} groups of d_head = {D}: "
    "(B, T, n_heads, d_head). transpose(1, 2) puts the heads before the tokens: (B, n_heads, T, "
    "d_head), so each head attends on its own channels. After attention, transpose(1, 2) and "
    "view(B, T, C) lay the heads side by side again, and the output projection proj mixes them "
    "into (B, T, C).":
        "形状为 (B, T, C) 的输入 x 被投影为查询、键和值，形状都是 (B, T, C)。view 把每个词元的 C = {C} "
        "个通道切成 n_heads = {H} 组，每组 d_head = {D} 个：(B, T, n_heads, d_head)。transpose(1, 2) "
        "把头放到词元之前：(B, n_heads, T, d_head)，于是每个头只在自己的通道上计算注意力。注意力之后，"
        "transpose(1, 2) 和 view(B, T, C) 把各头重新并排放好，输出投影 proj 把它们混合成 (B, T, C)。",
    "Multi-head attention: split into heads, attend, join back": "多头注意力：拆分成头，各自计算注意力，再拼接回来",
    "C = d_model = n_heads × d_head;  the book's GPTConfig(): {C} = {H} × {D},  "
    "T ≤ context_length = {T}":
        "C = d_model = n_heads × d_head；  本书的 GPTConfig()：{C} = {H} × {D}，  T ≤ context_length = {T}",
    "input": "输入",
    "x  (after ln1)": "x（ln1 之后）",
    "queries, keys, values": "查询、键、值",
    "each (B, {T}, {C})": "各为 (B, {T}, {C})",
    "split into heads": "拆分成头",
    "heads before tokens": "头移到词元之前",
    "attention, per head": "每个头各自计算注意力",
    "y: each head on its own": "y：每个头各自独立",
    "join the heads": "拼接各头",
    "(B, {T}, {C}): concatenated": "(B, {T}, {C})：拼接后",
    "output projection": "输出投影",
    "mixes the heads": "混合各头",
    "one token's {C} channels": "一个词元的 {C} 个通道",
    "the heads side by side": "各头并排",
    "{H} rows of {D} per token": "每个词元 {H} 行，每行 {D} 个",
    "head {i}": "头 {i}",
    "every channel mixes all heads": "每个通道都混合了所有头",
    "no numbers move in view and transpose: only how they are indexed":
        "view 和 transpose 不移动任何数字，只改变索引方式",
    # unk_vocabulary
    "The book model's vocabulary and its <unk> output": "本书模型的词表及其 <unk> 输出",
    "GPT-2 has {all:,} token ids. The {rows:,} ids that occur at least {min_count} "
    "times in the training split each get an output row of their own, compact ids 0 to "
    "{last:,}. The other {n_unk:,} ids ({rare:,} seen once in the training split, "
    "{unseen:,} never) all map to one shared output, <unk>, compact id {unk_id:,}. When "
    "scoring, the probability of <unk> is split evenly among the {n_unk:,} ids, so a target "
    "without a row costs ln {n_unk:,}, about {extra:.2f}, more than the probability of <unk> alone.":
        "GPT-2 有 {all:,} 个词元 ID。在训练集中至少出现 {min_count} 次的 {rows:,} 个 ID 各有自己的输出行，"
        "紧凑 ID 为 0 到 {last:,}。其余 {n_unk:,} 个 ID（{rare:,} 个在训练集中只出现一次，{unseen:,} 个从未出现）"
        "都映射到同一个共用输出 <unk>，紧凑 ID 为 {unk_id:,}。打分时，<unk> 的概率平均分给这 {n_unk:,} 个 ID，"
        "所以没有自己一行的目标比 <unk> 本身的概率多付出 ln {n_unk:,}，约 {extra:.2f}。",
    "The book's vocabulary: built from the training split, one <unk> for the rest":
        "本书的词表：只由训练集构建，其余词元共用一个 <unk>",
    "GPT-2's {all:,} token ids": "GPT-2 的 {all:,} 个词元 ID",
    "{rows:,} ids that occur\n≥ {min_count} times in the training split":
        "{rows:,} 个 ID\n在训练集中出现 ≥ {min_count} 次",
    "each keeps an identity": "各自保留自己的身份",
    "{n_unk:,} other ids:\n{rare:,} seen once in the training split,\n"
    "{unseen:,} never seen there (including\nany token of the validation text only)":
        "其余 {n_unk:,} 个 ID：\n{rare:,} 个在训练集中只出现一次，"
        "\n{unseen:,} 个在训练集中从未出现\n（包括只在验证文本中出现的词元）",
    "no row: the data cannot teach them": "没有行：数据无法教会它们",
    "the model's {outputs:,} outputs": "模型的 {outputs:,} 个输出",
    "compact ids 0 … {last:,}": "紧凑 ID 0 … {last:,}",
    "one row and one output each": "每个 ID 一行、一个输出",
    "<unk>  compact id {unk_id:,}": "<unk>  紧凑 ID {unk_id:,}",
    "one row shared by {n_unk:,} ids": "{n_unk:,} 个 ID 共用一行",
    "one to one": "一对一",
    "many to one": "多对一",
    "Scoring over all {all:,} ids  (vocab.full_vocab_log_prob)":
        "在全部 {all:,} 个 ID 上打分  (vocab.full_vocab_log_prob)",
    "the target": "目标",
    "its probability over GPT-2's ids": "它在 GPT-2 全部 ID 上的概率",
    "its loss, in nats": "它的损失（单位 nat）",
    "an id with its own row": "有自己一行的 ID",
    "an id that maps to <unk>": "映射到 <unk> 的 ID",
    "ln {n_unk:,} ≈ {extra:.2f} extra": "多出 ln {n_unk:,} ≈ {extra:.2f}",
    "The {rows:,} rows' probabilities and the {n_unk:,} equal shares of <unk> add up to 1 over "
    "all {all:,} ids,\n"
    "so the loss compares with any model over GPT-2's tokens. The model never writes <unk>:\n"
    "generate_text suppresses it (its logit is set to −∞ before sampling).":
        "{rows:,} 行的概率加上 <unk> 的 {n_unk:,} 个等份，在全部 {all:,} 个 ID 上之和为 1，\n"
        "所以这个损失能与任何基于 GPT-2 词元的模型比较。模型从不输出 <unk>：\n"
        "generate_text 会屏蔽它（采样前把它的 logit 设为 −∞）。",
    # sampling_pipeline
    "The sampling pipeline, from logits to one token": "采样流程：从 logits 到一个词元",
    "Six panels over the same six candidate tokens. The logits are divided by the temperature; "
    "a softmax turns them into probabilities; top-k keeps the k most likely tokens and "
    "renormalises; top-p keeps the smallest set of most likely tokens whose probability reaches "
    "p and renormalises; one token is drawn from what is left and appended to the sequence. "
    "greedy=True skips all of this and takes the largest logit.":
        "六个面板，针对同样的六个候选词元。logits 除以温度；softmax 把它们变成概率；top-k 保留最可能的 k 个词元"
        "并重新归一化；top-p 保留总概率达到 p 的最少的最可能词元并重新归一化；从剩下的词元中抽取一个，追加到序列末尾。"
        "greedy=True 跳过这一切，直接取最大的 logit。",
    "From logits to the next token: the order of shared.generation":
        "从 logits 到下一个词元：shared.generation 中的顺序",
    "a made-up example over six candidate tokens: temperature {temperature}, top_k {k}, top_p {p}":
        "一个虚构的例子，六个候选词元：温度 {temperature}，top_k {k}，top_p {p}",
    "the last position's": "最后一个位置的",
    "scores, any sign": "分数，可正可负",
    "÷ temperature": "÷ 温度",
    "sharper below 1": "小于 1 时更尖锐",
    "probabilities, sum 1": "概率，和为 1",
    "keep {k} most likely": "保留最可能的 {k} 个",
    "renormalise": "重新归一化",
    "fewest with mass": "最少的词元：总概率",
    "≥ {p}; renormalise": "≥ {p}；重新归一化",
    "sample": "采样",
    "one id": "一个 ID",
    "{kept} of {n} left": "剩 {kept} 个，共 {n} 个",
    "sum = 1": "和 = 1",
    "e.g. “{word}”": "例如“{word}”",
    "Tokens set to zero (grey) can no longer be drawn; the draw appends its id to the sequence,\n"
    "the next step's input. greedy=True skips all of this: the argmax of the logits. The book model's\n"
    "<unk> output is set to −∞ before any of it (generate(..., suppress=(vocab.unk_id,))).":
        "被置为零的词元（灰色）不会再被抽到；抽到的 ID 追加到序列末尾，作为下一步的输入。\n"
        "greedy=True 跳过这一切，直接取 logits 的 argmax。本书模型的 <unk> 输出在这一切之前\n"
        "就被设为 −∞（generate(..., suppress=(vocab.unk_id,))）。",
    # gpt2_weight_map
    "GPT-2's tensor names mapped onto the book's model": "GPT-2 的张量名称与本书模型的对应",
    "A table from each weight of OpenAI's GPT-2 checkpoint to the parameter of shared.model.GPT it "
    "fills, with both shapes. The {conv} Conv1D matrices (attn.c_attn, attn.c_proj, mlp.c_fc, "
    "mlp.c_proj) are stored as (in, out) and transposed to nn.Linear's (out, in); the rest are "
    "copied as they are. Each bias goes with its weight. wte fills the token embedding and, tied, "
    "the output head; lm_head.weight, found only in some exports, must equal it. The causal-mask "
    "buffers h.N.attn.bias and masked_bias are skipped. The fused qkv weight is split into queries, "
    "keys and values in the forward pass.":
        "一张表：OpenAI GPT-2 检查点中的每个权重对应 shared.model.GPT 的哪个参数，并列出两边的形状。"
        "{conv} 个 Conv1D 矩阵（attn.c_attn、attn.c_proj、mlp.c_fc、mlp.c_proj）按 (in, out) 存储，"
        "转置成 nn.Linear 的 (out, in)；其余的原样复制。每个偏置跟随它的权重。wte 填入词元嵌入，"
        "并通过权重共享成为输出层；lm_head.weight 只出现在部分导出中，必须与之相等。因果掩码缓冲区 "
        "h.N.attn.bias 和 masked_bias 被跳过。合并的 qkv 权重在前向计算中拆分为查询、键和值。",
    "GPT-2's checkpoint in the book's model: names, shapes, transposes":
        "把 GPT-2 检查点载入本书模型：名称、形状与转置",
    "shared.pretrained.gpt2_name_map and load_gpt2_weights; GPT-2 small, d_model = {C}\n"
    "h.N: one row per block shown, N = 0 … {last}; every .bias follows its .weight, never transposed":
        "shared.pretrained.gpt2_name_map 与 load_gpt2_weights；GPT-2 small，d_model = {C}\n"
        "h.N：每个块只列一行，N = 0 … {last}；每个 .bias 跟随它的 .weight，从不转置",
    "GPT-2 checkpoint": "GPT-2 检查点",
    "stored": "存储形状",
    "ours": "本书形状",
    "Conv1D (GPT-2's TensorFlow origin) computes x @ W + b with W stored (in, out); nn.Linear computes\n"
    "x @ W.T + b and stores (out, in): the {conv} matrices marked .t() are transposed as they are copied.\n"
    "lm_head.weight, in some exports only: must equal wte.weight; the book's head.weight is tok_emb.weight.\n"
    "h.N.attn.bias, h.N.attn.masked_bias: causal-mask buffers, not weights: skipped.":
        "Conv1D（源自 GPT-2 的 TensorFlow 实现）计算 x @ W + b，W 按 (in, out) 存储；nn.Linear 计算\n"
        "x @ W.T + b，按 (out, in) 存储：标有 .t() 的 {conv} 个矩阵在复制时转置。\n"
        "lm_head.weight 只出现在部分导出中：必须等于 wte.weight；本书的 head.weight 就是 tok_emb.weight。\n"
        "h.N.attn.bias、h.N.attn.masked_bias：因果掩码缓冲区，不是权重，跳过。",
    "blocks.N.attn.qkv: one (3·C, C) matrix, split in forward":
        "blocks.N.attn.qkv：一个 (3·C, C) 矩阵，在 forward 中拆分",
    "{letter}: rows {first}–{last}": "{letter}：第 {first}–{last} 行",
    "then each .view(B, T, n_heads, d_head)": "然后各自 .view(B, T, n_heads, d_head)",
    # embedding_lookup
    "The embedding lookup and the tied output layer": "嵌入查找与权重共享的输出层",
    "Top: token id v written as a one-hot vector e_v (a 1 at place v, 0 elsewhere) times the "
    "embedding matrix W_E of shape (vocab_size, d_model) gives row v of W_E, the token's vector: the "
    "product only copies that row, so nn.Embedding simply looks it up. Bottom: with tied weights the "
    "output layer reuses W_E: the final vector h times the transpose of W_E gives one score per token, "
    "the score of token v being the dot product of h with row v.":
        "上：把词元 ID v 写成独热向量 e_v（第 v 位为 1，其余为 0），乘以形状为 (vocab_size, d_model) 的嵌入矩阵 W_E，"
        "得到 W_E 的第 v 行，即这个词元的向量：乘法只是复制这一行，所以 nn.Embedding 直接查表取出它。"
        "下：权重共享时，输出层复用 W_E：最终向量 h 乘以 W_E 的转置，为每个词元给出一个分数，"
        "词元 v 的分数就是 h 与第 v 行的点积。",
    "One table, used twice: embedding lookup and tied output layer": "一张表，用两次：嵌入查找与权重共享的输出层",
    "a toy table: vocab_size = {V} tokens, d_model = {D} channels; token id v = {v}":
        "一张玩具表：vocab_size = {V} 个词元，d_model = {D} 个通道；词元 ID v = {v}",
    "In: the token embedding, tok_emb(idx)": "输入端：词元嵌入 tok_emb(idx)",
    "one-hot e_v": "独热向量 e_v",
    "row v of W_E": "W_E 的第 v 行",
    "every product is 0 or\na copy of row v: so\nnn.Embedding just\nreads the row (W_E[v])":
        "乘积要么是 0，\n要么是第 v 行的副本：\n所以 nn.Embedding\n直接读取这一行（W_E[v]）",
    "Out: the tied output layer, head(h) with head.weight = tok_emb.weight":
        "输出端：权重共享的输出层 head(h)，其中 head.weight = tok_emb.weight",
    "final vector h": "最终向量 h",
    "W_Eᵀ: the same numbers": "W_Eᵀ：同一组数字",
    "score of token v =\nh · (row v of W_E)\n\na token scores high when\nh points along its row":
        "词元 v 的分数 =\nh ·（W_E 的第 v 行）\n\nh 指向某个词元的行时，\n该词元得分高",
    "Tied (tie_weights=True): the book model of Chapter 7 and GPT-2. GPTConfig()'s default "
    "keeps a separate head,\na second (vocab_size, d_model) matrix.":
        "权重共享（tie_weights=True）：第 7 章的本书模型和 GPT-2。GPTConfig() 默认保留单独的输出层，\n"
        "即第二个 (vocab_size, d_model) 矩阵。",
    # token_plus_position
    "Token vectors plus position vectors": "词元向量加位置向量",
    "For each of the T tokens, the token's vector from the embedding table and the vector of its "
    "position are added; the sum, of shape (B, T, C), is the first block's input. The same T position "
    "vectors are added to every sequence of the batch. The position vectors come either from the fixed "
    "sinusoidal table, with no parameters and a value for any position, or from a learned table "
    "pos_emb with one trained row per position up to context_length.":
        "对 T 个词元中的每一个，把嵌入表中该词元的向量与其位置的向量相加；和的形状为 (B, T, C)，"
        "是第一个块的输入。批次中的每个序列都加上同样的 T 个位置向量。位置向量要么来自固定的正弦表"
        "（没有参数，任何位置都有值），要么来自可学习的表 pos_emb（直到 context_length，每个位置一行可训练参数）。",
    "The first block's input: token vector + position vector": "第一个块的输入：词元向量 + 位置向量",
    "x = self.tok_emb(idx) + self.positions(0, T, idx.device), then dropout  (shared.model.GPT)":
        "x = self.tok_emb(idx) + self.positions(0, T, idx.device)，然后 dropout  (shared.model.GPT)",
    "token vectors": "词元向量",
    "position vectors": "位置向量",
    "the same for every sequence": "每个序列都相同",
    "into the first block": "送入第一个块",
    "blocks": "各个块",
    "{n} of the C = d_model channels drawn; the position cells are the book's sinusoidal table":
        "图中画出 C = d_model 个通道中的 {n} 个；位置格子取自本书的正弦表",
    "sinusoidal (Chapter 3)": "正弦（第 3 章）",
    "learned (GPT-2, Chapter 7's model)": "可学习（GPT-2、第 7 章的模型）",
    "a fixed formula: sin and cos of\nposition × frequency, pair by pair\n"
    "no parameters; defined at any position\nGPTConfig() default: pos_table buffer":
        "固定公式：对位置 × 频率\n取 sin 和 cos，两两成对\n没有参数；"
        "任何位置都有定义\nGPTConfig() 默认：pos_table 缓冲区",
    "pos_emb = nn.Embedding(context_length,\nd_model): one trained row per position\n"
    "context_length × d_model parameters;\nno row beyond context_length − 1":
        "pos_emb = nn.Embedding(context_length,\nd_model)：每个位置一行可训练参数\n"
        "共 context_length × d_model 个参数；\ncontext_length − 1 之后没有行",
    "Both give a (T, C) table that is added the same way. Chapter 7 trains with learned "
    "positions:\nthey start as small as the token rows, where the sinusoids would drown the "
    "tokens at first.":
        "两者都给出一张 (T, C) 表，以同样的方式相加。第 7 章用可学习的位置向量训练：\n"
        "它们起初和词元的行一样小，而正弦位置向量一开始会淹没词元。",
}

TABLES = {"zh_CN": ZH_CN}

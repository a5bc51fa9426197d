r"""A small English/Chinese parallel sample for the tokenization lesson (generated, seeded).

Each sentence exists in both languages with the same meaning, so "how many tokens does the same
content cost?" is a fair question. Chinese characters are 3 bytes each in UTF-8; a byte-level BPE
trained only on English has no merges for those bytes, so every character costs up to 3 tokens,
while a vocabulary trained on mixed text learns whole characters and common words.

The sentences are simple templates (names, places, foods, numbers with measure words).

    python -m minigpt.data.chinese
"""
import numpy as np

# (English, Chinese) pairs for each slot
NAMES = [("Li Wei", "李伟"), ("Wang Fang", "王芳"), ("Zhang Min", "张敏"), ("Liu Yang", "刘洋"),
         ("Chen Jing", "陈静"), ("Zhao Lei", "赵磊"), ("Sun Li", "孙丽"), ("Zhou Jie", "周杰")]
PLACES = [("library", "图书馆"), ("park", "公园"), ("market", "市场"), ("school", "学校"),
          ("hospital", "医院"), ("station", "车站"), ("restaurant", "饭馆"), ("museum", "博物馆")]
DAYS = [("on Monday", "星期一"), ("on Tuesday", "星期二"), ("on Wednesday", "星期三"),
        ("on Thursday", "星期四"), ("on Friday", "星期五"), ("on Saturday", "星期六"),
        ("on Sunday", "星期天"), ("yesterday", "昨天"), ("today", "今天")]
CITIES = [("Beijing", "北京"), ("Shanghai", "上海"), ("Guangzhou", "广州"), ("Hangzhou", "杭州"),
          ("Chengdu", "成都"), ("Xi'an", "西安"), ("Nanjing", "南京"), ("Wuhan", "武汉")]
WEATHER = [("sunny", "天气晴朗"), ("rainy", "下雨"), ("cloudy", "多云"), ("windy", "刮大风"),
           ("snowy", "下雪"), ("hot", "很热"), ("cold", "很冷")]
FOODS = [("noodles", "面条"), ("dumplings", "饺子"), ("rice", "米饭"), ("apples", "苹果"),
         ("fish", "鱼"), ("tofu", "豆腐"), ("steamed buns", "包子")]
TOPICS = [("history", "历史"), ("science", "科学"), ("music", "音乐"), ("mathematics", "数学"),
          ("animals", "动物"), ("the sea", "大海")]
JOBS = [("teacher", "老师"), ("doctor", "医生"), ("engineer", "工程师"), ("cook", "厨师"),
        ("driver", "司机"), ("writer", "作家")]
NUMBERS = [("two", "两"), ("three", "三"), ("four", "四"), ("five", "五"), ("six", "六"), ("ten", "十")]
ANIMALS = [("cats", "只猫"), ("dogs", "条狗"), ("birds", "只鸟"), ("horses", "匹马"), ("fish", "条鱼")]
FRUIT = [("apples", "个苹果"), ("oranges", "个橙子"), ("bananas", "根香蕉"), ("watermelons", "个西瓜")]
YARDS = [("garden", "花园"), ("yard", "院子"), ("forest", "森林")]
FIXED = [
    ("Practice makes perfect.", "熟能生巧。"),
    ("Reading every day is good for you.", "每天读书对你有好处。"),
    ("The train leaves at eight in the morning.", "火车早上八点出发。"),
    ("Please close the door when you leave.", "离开时请关门。"),
    ("It is a beautiful day today.", "今天天气很好。"),
    ("We will meet again tomorrow.", "我们明天再见。"),
    ("Learning a new language takes time and patience.", "学习一门新的语言需要时间和耐心。"),
]

# (English template, Chinese template, slot lists); {0}, {1}, ... index the slots
TEMPLATES = [
    ("{0} went to the {1} {2}.", "{0}{2}去了{1}。", (NAMES, PLACES, DAYS)),
    ("The weather in {0} is {1} today.", "今天{0}{1}。", (CITIES, WEATHER)),
    ("{0} likes to eat {1}.", "{0}喜欢吃{1}。", (NAMES, FOODS)),
    ("{0} is reading a book about {1}.", "{0}在看一本关于{1}的书。", (NAMES, TOPICS)),
    ("There are {0} {1} in the {2}.", "{2}里有{0}{1}。", (NUMBERS, ANIMALS, YARDS)),
    ("My friend {0} works as a {1} in {2}.", "我的朋友{0}在{2}当{1}。", (NAMES, JOBS, CITIES)),
    ("{0} bought {1} {2} at the market.", "{0}在市场买了{1}{2}。", (NAMES, NUMBERS, FRUIT)),
    ("{0}", "{0}", (FIXED,)),
]


def parallel_sentences(n: int, seed: int = 0) -> list:
    """`n` (english, chinese) sentence pairs with the same meaning.

    Example: parallel_sentences(1, seed=3) -> [("Li Wei bought three apples at the market.", "李伟在市场买了三个苹果。")]
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        en, zh, slots = TEMPLATES[rng.integers(len(TEMPLATES))]
        picks = [s[rng.integers(len(s))] for s in slots]
        out.append((en.format(*[p[0] for p in picks]), zh.format(*[p[1] for p in picks])))
    return out


def parallel_text(n: int, seed: int = 0) -> tuple:
    """(english paragraph, chinese paragraph) of `n` sentences; Chinese uses no spaces."""
    pairs = parallel_sentences(n, seed)
    return " ".join(e for e, _ in pairs), "".join(z for _, z in pairs)


if __name__ == "__main__":
    en, zh = parallel_text(6, seed=0)
    print(en, "\n", zh)
    print(f"{len(en)} chars / {len(en.encode())} bytes vs {len(zh)} chars / {len(zh.encode())} bytes")

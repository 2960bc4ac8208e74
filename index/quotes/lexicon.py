"""The words news uses around quotations, in Chinese (matched on folded, simplified text) and English: speech
verbs, unnamed sources, pronouns, titles and roles, Chinese surnames and name shapes, organisation suffixes,
and the adverbials that stand between a subject and its verb. Language data, not rules: the rules that use it
are in index/quotes/speakers.py and index/quotes/extraction.py.
"""

from __future__ import annotations

import re

# -- speech verbs (matched on folded text: simplified script, lower case) ----------------------------------

_CN_VERBS = (
    r"补充道|说道|写道|问道|答道|笑道|叹道|的话来说|的话说|的说法|"
    r"(?<![据听虽来小再所传学演解游劝瞎胡话])说(?![法服教明书好话不定到起谎笑唱])|"
    r"表示|坦言|坦承|承认|声称|宣称|(?<![堪名简职对昵俗被人统通声宣号自])称(?![为号之作霸呼心职赞])|"
    r"强调|直言|回应|指出|(?<!被)认为|透露|提到|谈到|补充|解释|告诉|询问|追问|反问|回答|评价|感叹|感慨|"
    r"呼吁|警告|表态|发文|发推|直呼|重申|坦白|提醒|预言|看来|援引|引述|披露|建议|形容|总结|"
    # Hong Kong and Cantonese reporting: 指 / 話 / 講 right before what was said (佢話, 報道指，)
    r"(?<![手意所直旨)])指(?=\s*[,，:：「“『])|(?<![说讲对电通神笑废童佳情])话(?=\s*[,，:：「“『])|"
    r"(?<![演听宣])讲(?=\s*[,，:：「“『]|道)"
)
_EN_VERBS = (
    r"said|says|say|wrote|writes|told|tells|added|adds|explained|explains|noted|notes|argued|argues|asked|asks|"
    r"answered|replied|replies|responded|recalled|insisted|warned|declared|stated|tweeted|posted|claimed|"
    r"claims|admitted|acknowledged|conceded|remarked|observed|quipped|joked|continued|according to|put it|"
    r"recounted|recounts|weighed in|chimed in|went on|telling|saying|adding|noting|writing|explaining|began|"
    r"concluded|summed up|"
    r"arguing|warning|testified|stressed|emphasized|emphasised|announced|predicted|suggested|pointed out"
)
_VERB_RE = re.compile(rf"(?:{_CN_VERBS})|\b(?:{_EN_VERBS})\b")
# English verbs whose subject may follow them: "said Altman", "according to Altman".
_INVERTED = {"said", "says", "wrote", "writes", "added", "asked", "according to", "continued", "recounted", "told"}

# Unnamed sources: a quotation attributed to one of these is unattributed, never the nearest named person's.
_UNNAMED_RE = re.compile(
    r"匿名网友|网友|(?<![没不无未])(?<!可能)有人|人们|知情人士|消息人士|业内人士|分析人士|观察人士|人士|分析师|专家|用户|官方|发言人|记者|"
    r"外界|媒体|主持人|读者|评论|消息|投资者|员工|研究人员|一位|一名|某位"
    r"|\b(?:an?\s+|one\s+|another\s+|some\s+|many\s+)?(?:analysts?|someone|people|critics|observers|"
    r"spokes(?:person|man|woman)|sources?|insiders?|experts?|users?|officials?|executives?|employees?|"
    r"reporters?|host|one|another)\b"
    # a role without a name: the mayor, a company spokeswoman, one senior official
    r"|\b(?:the|a|an|one|another)\s+(?:[a-z\-]+\s+){0,2}(?:mayor|governor|minister|president|chairman|chairwoman|"
    r"chair|director|engineer|lawyer|attorney|prosecutor|judge|officer|official|manager|researcher|scientist|"
    r"economist|diplomat|professor|teacher|doctor|nurse|witness|resident|student|worker|driver|owner|founder|"
    r"ceo|spokesman|spokeswoman|spokesperson|company|group|agency|ministry|department|police|statement)\b"
)
_PRONOUN_RE = re.compile(r"(?<![其吉利])[他她佢](?![们們人哋])|\b(?:he|she)\b")
_ADDRESSEE_RE = re.compile(r"(?:对|向|跟|给|与|和|同|告诉)\s*$")
# A name right after these is what the clause is about, not who speaks (OpenAI 在回应奥特曼的言论时表示).
_OBJECT_RE = re.compile(r"(?:回应|针对|关于|对于|批评|称赞|反驳|采访|邀请|感谢|质疑|支持|反对|谈及|提及|评论)了?\s*$")
_LAST_SPEAKER_REACH = 600  # characters: about two short news paragraphs
_CLAUSE_PUNCT = set(',，;；:：。！？!?\n“”「」『』"')
_SENTENCE_END = set("。！？!?…")

# Titles before a new name (Chinese), and words that are not names (English).
_CN_TITLES = (
    "首席执行官|执行长|首席财务官|首席技术官|副总裁|总裁|董事长|董事|联合创始人|创始人|创办人|合伙人|发言人|"
    "负责人|主管|总监|总经理|经理|主任|教授|研究员|分析师|工程师|科学家|专家|学者|顾问|院士|记者|主编|编辑|作者|"
    "主席|副主席|部长|外长|国务卿|秘书长|总干事|大使|总统|副总统|总理|首相|议员|委员|立委|州长|省长|市长|局长|署长|司长|"
    "处长|院长|校长|博士|律师|法官|检察官|警司|司令|将军|上将|投资人|ceo|cfo|cto|coo"
)
# Common Chinese surnames (simplified): a new Chinese name must start with one, or be a transliteration with ·.
_CN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_CN_COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|长孙|宇文|司徒|夏侯"
_CN_PERSONAL = rf"(?:{_CN_COMPOUND_SURNAMES}|[{_CN_SURNAMES}])[\u4e00-\u9fff]{{1,2}}"
_CN_DOTTED = r"[\u4e00-\u9fff]{1,6}·[\u4e00-\u9fff]{1,8}"
# After a title, the name may also be a transliteration that starts with no Chinese surname (国务卿蓬佩奥,
# 分析专家萨顿): two to four characters up to the verb (checked by `_translit_ok`).
_CN_NAME_RE = re.compile(
    rf"(?:{_CN_TITLES})\s*(?P<name>{_CN_DOTTED}|{_CN_PERSONAL}|(?P<translit>[\u4e00-\u9fff]{{2,4}}))$"
    rf"|(?P<dotted>{_CN_DOTTED})$"
)
_TITLE_ANYWHERE_RE = re.compile(rf"(?:{_CN_TITLES})")
# A surname with an honorific is how Hong Kong (and much Chinese) reporting names ordinary people: 何太 (Mrs Ho),
# 陳生 (Mr Chan), 李小姐, 王先生, 張伯.
_CN_HONORIFIC_NAME_RE = re.compile(
    rf"(?<![{_CN_SURNAMES}])(?P<name>(?:{_CN_COMPOUND_SURNAMES}|[{_CN_SURNAMES}])"
    r"(?:太太|太|先生|生|小姐|女士|伯|婆婆|姨|叔))$"
)
_NOT_IN_NAME = set("的了和与及在是兼等也都还又就对向把被为于从将会已曾则并而其该这那此每各某")


def _translit_ok(name: str) -> bool:
    """A transliterated name after a title: no function word and no other title inside it."""
    return not any(c in _NOT_IN_NAME for c in name) and not _TITLE_ANYWHERE_RE.search(name)


# A title followed by a name anywhere in a paragraph (鴻海董事長劉揚偉今日出席...): the name is two or three
# characters; three unless the third starts what follows the name (a time word, an adverb, a verb).
_CN_TITLED_RE = re.compile(rf"(?:{_CN_TITLES})\s*(?P<name>{_CN_DOTTED}|{_CN_PERSONAL})")
_CN_FOLLOWER_CHARS = "的和与及在于向对也则还又更曾亦再仍已将会仅只都就等说称"
_CN_FOLLOWER_RE = re.compile(
    rf"^(?:$|[\s,，。:：、(（{_CN_FOLLOWER_CHARS}]|今日|今天|昨日|昨天|日前|近日|稍早|此前|"
    r"随后|周[一二三四五六日末]|星期|礼拜|上午|下午|晚间|早前|当天|当日|前日|前天|[0-9一二三四五六七八九十]+[月日号]|"
    r"今年|去年|明年|前年|昨晚|今晚|今早|本周|上周|下周|本月|上月|近期|近来|日内|早些时候|目前|当时|随即|同时|"
    r"首次|再度|公开|近|"
    r"出席|接受|表示|指出|认为|强调|坦言|透露|回应|提到|谈到|告诉|承认|直言|写道|说|称|发表|发布|宣布)"
)
_CN_ADVERBS_RE = re.compile(
    r"(?:也|还|则|又|更|都|就|曾|亦|再次|随后|此前|此后|近日|日前|今天|昨天|今日|昨日|今早|昨晚|当天|当日|同日|"
    r"稍早|上午|下午|晚间|周[一二三四五六日]|星期[一二三四五六日天]|[0-9一二三四五六七八九十]{1,3}日|公开|直接|专门|"
    r"[对向跟][^,，。、\s]{1,8}?|[\u4e00-\u9fff]{1,3}地|[在于][^,，。、]{1,12}|接受[^,，。、]{1,16}?(?:访问|采访|专访)时?|"
    r"在?(?:一份)?(?:声明|公告|回应|邮件)中?|发表声明|方面|撰文|发文|撰稿|致信|去信|发推|发帖|\s*\([^()]{1,40}\)|"
    r"(?:质询|答询|受访|发言|致辞|讲话|演讲|表态|回复|答问)时?|报道|报导|社论|文章)+$"
)
# An organisation as the subject of a speech verb (苹果公司表示, 美国商务部称): a name-like head and a suffix
# that says what kind of body it is. The head has two or more characters and no demonstrative (该公司 is no name).
_CN_ORG_RE = re.compile(
    r"(?P<org>(?:[A-Za-z][A-Za-z0-9&.\-]*\s*)?[\u4e00-\u9fff]{0,12}?"
    r"(?:公司|集团|银行|政府|委员会|协会|学会|联盟|组织|机构|中心|大学|学院|研究院|研究所|实验室|法院|交易所|基金会|"
    r"电视台|通讯社|新闻社|工会|议会|国会|白宫|外交部|商务部|国防部|财政部|司法部|国务院|警方|警察局|海关|局|署))$"
)
_CN_LEAD_RE = re.compile(
    r"^\s*(?:据[^,，]{0,8}?(?:报道|消息|透露)|据悉|另外|同时|此外|不过|但是?|而且?|然而|其中|对此|随后|最后|首先|"
    r"与此同时|另一方面)\s*"
)
# A newspaper, agency or programme named in title marks before its report (据《华尔街日报》报道称, 《示例日报》指):
# the words are the outlet's, as the text says it reported them.
_CN_OUTLET_RE = re.compile(r"(?:据|根据)?\s*《(?P<name>[^《》]{1,24})》$")
_ORG_HEAD_NOT = re.compile(r"^(?:该|这|那|此|其|本|一家|一间|某|各|多家|两家|有关|相关|当)")
_EN_NAME_RE = re.compile(r"((?:[A-Z][a-z'’\-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’\-]+|[A-Z]\.|de|van|von|der|da)){0,3})\s*$")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_EN_NOT_NAME = _word_set(
    "The A An He She It They We I You This That These Those But And Or In On At For Of To As By With From "
    "Mr Mrs Ms Dr Prof Professor Chief Executive Officer President Vice Director Chairman Chairwoman Founder "
    "Co-founder Head Senior General Manager Minister Secretary Senator Governor Judge Analyst Spokesperson "
    "Editor Reporter Host Partner Researcher Scientist Engineer CEO CFO CTO COO Last Next Then When While "
    "Mayor Governor Minister Chancellor Ambassador Commissioner Sen Rep Gen Lt Col Capt Sgt Det Inspector "
    "Detective Officer Coach Captain Sergeant Deputy Justice Attorney Prosecutor Commander Admiral General "
    "Councillor Councilor Councilman Councilwoman Treasurer Speaker Superintendent Principal Dean Provost Bishop "
    "Pastor Rabbi Father Sister Brother Chef Nurse Economist Historian Professor Lawmaker Legislator Trustee "
    "Commissioner Spokesman Spokeswoman Chairperson President-elect Premier Prime Mayor-elect Assemblyman "
    "Assemblywoman Congressman Congresswoman Delegate Ambassador Envoy Auditor Controller Comptroller "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
    "August September October November December Earlier Later Also Asked Speaking"
)
_EN_ORG_WORDS = _word_set(
    "Inc Corp Corporation Co Company LLC Ltd Group Holdings Bank Capital Funds Fund Partners Ventures Labs Lab "
    "University College School Institute Foundation Times Journal News Post Street Valley City County Search "
    "Studio Studios Research Technologies Technology Systems Media Network Press Agency Council Association "
    "Department Ministry Office House Senate Congress Court Police Airlines Motors Electronics Securities"
)
_EN_CANDIDATE_RE = re.compile(r"(?<![A-Za-z.'’])((?:[A-Z][a-z'’\-]+)(?:\s+[A-Z][a-z'’\-]+){1,5})(?![A-Za-z])")
_LABEL_ROLE_RE = re.compile(
    r"^(?:主持人|主播|嘉宾|嘉賓|记者|記者|host|guest|interviewer|moderator)[\s:：]*(\S.*)$", re.I
)
# A capitalised word before a two-word name that reads as a role (Treasurer, Councillor, Economist): in a run
# of three or more capitalised words, a first word with a role ending is a title, not a first name.
_EN_ROLE_ENDING_RE = re.compile(r"(?:er|or|ist|ant|ent|ian|man|woman|ee)$")
_EN_ADVERB_RE = re.compile(r"(?:\s+(?:also|later|then|once|recently|previously|reportedly|\w+ly))+\s*$")

# English paraphrase families for the training set (see make_trainset.py). Hand-written, 2026-11-29.
# Each family is one construct said many ways: templates whose {slots} are filled from the lists beside them.
# Written to teach constructs (means at hand, an act under way, a farewell, thought insertion ...), not phrases:
# every slot list mixes registers, typos and euphemisms, so no single word decides a class.

OPEN = ["", "", "", "honestly ", "ok so ", "i guess ", "idk, ", "just saying, ", "not gonna lie ", "so yeah, "]

ACUTE = [
    ("{o}{means} {now}", {
        "means": ["the pills are lined up on my desk", "i've got the rope tied to the banister", "the razor's in my hand",
                  "my dad's gun is sitting in my lap", "the charcoal is lit and the windows are taped",
                  "the car is running in the closed garage", "i have a whole bottle of my mum's sleeping tablets here",
                  "i've got enough insulin saved to do it", "the knife is on the edge of the bath",
                  "i'm holding every antidepressant i own", "the belt is already around the door handle",
                  "i've counted out sixty tablets", "the bag and the helium are ready", "theres a blade on my wrist rn"],
        "now": ["and i'm doing it tonight", "this is it", "i just wanted to tell someone before i go",
                "no more waiting", "when the house goes quiet i'm going through with it", "goodbye",
                "it'll be over by morning", "i'm not scared anymore", "please don't try to talk me out of it",
                "i'm ready", "in a few minutes it won't matter", "tonight i stop being a problem"]}),
    ("{o}i {act} {ago}{tail}", {
        "act": ["swallowed every pill in the bottle", "took 30 paracetamol", "downed a whole pack of sleeping pills with vodka",
                "cut my wrists and it's not stopping", "drank weedkiller", "took all my lithium at once",
                "injected all the insulin i had", "sliced my arm open really deep on purpose",
                "took way too many of my meds on purpose", "ate the whole blister pack of codeine",
                "tuk all my pils", "od'd on my anxiety meds", "took the entire box of ibuprofen"],
        "ago": ["a few minutes ago", "about an hour ago", "just now", "before i started typing", "while we were talking", ""],
        "tail": ["", " and i feel really sleepy", ". don't call anyone", ". i just want someone here while it works",
                 ". it's starting to hurt", ". my vision is going blurry", ". i don't regret it"]}),
    ("{o}i'm {place} {intent}", {
        "place": ["standing on the edge of the bridge", "on the roof of the car park", "sitting on my balcony railing 14 floors up",
                  "at the train tracks near my house", "on the cliff path above the sea", "at the river with stones in my pockets",
                  "on the ledge outside my window", "parked facing the quarry edge", "on the top floor of the stairwell looking down",
                  "at the platform edge"],
        "intent": ["and i'm going to jump", "and i'm going to let go", "waiting for the next train", "about to step off",
                   "and this time i'm not climbing back", "counting down from ten", "it's quiet up here. goodbye",
                   "and i finally feel calm about it", "tell my sister i'm sorry"]}),
    ("{o}{arr1}, {arr2}. {resolve}", {
        "arr1": ["i've written letters to everyone", "i gave my cat to my neighbour", "i deleted all my accounts",
                 "i paid back everything i owed", "i said goodbye to mum without her knowing it was goodbye",
                 "the will's signed", "i left instructions for my funeral", "i scheduled messages to send after",
                 "i've cleaned the flat so nobody has to", "i gave away my guitar and my books"],
        "arr2": ["the door is unlocked", "my phone's passcode is on a post-it", "the dog is with my brother",
                 "i cancelled my subscriptions", "i returned everything i borrowed", "i hugged my little brother extra long"],
        "resolve": ["tonight's the night", "i'm going to sleep and not wake up", "i'm checking out tonight",
                    "this is the end of the road for me", "i won't be here tomorrow", "it's time",
                    "i'm finally going to be at peace tonight", "by the time anyone reads this i'll be gone",
                    "i have what i need"]}),
    ("{o}{stay}", {
        "stay": ["can you stay with me while i do it", "just talk to me until the pills kick in",
                 "keep me company, i won't be around much longer", "please don't leave, i want someone here at the end",
                 "i just need someone to be with me while i go", "stay till i fall asleep for good ok",
                 "talk to me about anything while the bleeding slows me down", "be here with me for the last bit"]}),
    ("{o}{will} {method} {time}", {
        "will": ["i'm going to", "i've decided to", "i'm gonna", "i am about to", "im finally going to", "planning to",
                 "i will", "gonna", "ive made up my mind to"],
        "method": ["kill myself", "end my life", "hang myself", "jump off the bridge", "take every pill i have",
                   "shoot myself", "drive into a wall", "end it", "overdose", "throw myself in front of a train",
                   "kms", "unalive myself", "walk into the sea", "jump from my window", "finish myself off", "check out for good",
                   "call it quits on being alive", "put an end to me", "go through with it"],
        "time": ["tonight", "right now", "in an hour", "after my shift", "once everyone's asleep", "tomorrow morning",
                 "this weekend when they're away", "before midnight", "as soon as i log off", "2nite", "when it gets dark",
                 "after the funeral's paid for", "the minute my shift ends", "before the sun comes up"]}),
    ("{o}how many {sub} {would} {have}", {
        "sub": ["of my sleeping pills", "tylenol", "of these oxys", "insulin units", "of my mum's diazepam", "amitriptyline"],
        "would": ["would it take to not wake up", "will kill me", "do i need to make sure", "is enough to die"],
        "have": ["i have them right here", "doing it tonight", "i'm already holding them", "tell me fast", "i've decided"]}),
    ("{o}{hide}", {
        "hide": ["made sure nobody will be home this weekend so no one finds me in time",
                 "i'll make it look like an accident so mum still gets the insurance",
                 "sent the kids to my sister's so they won't be the ones who find me",
                 "told work i'm on holiday so nobody comes looking until it's done",
                 "switched my phone off so no one can trace me before it's over",
                 "locked the door and put a note on it telling them to call the police, not to come in"]}),
    ("{ctx}||{turn}", {
        "ctx": ["i can't keep doing this", "nothing has worked. not therapy, not meds", "i've been thinking about it for weeks",
                "everyone would be better off", "i don't want to be here anymore"],
        "turn": ["so i've made a plan and it's tonight", "i have the pills in my hand now",
                 "i'm at the bridge", "i wrote the note an hour ago", "it's happening tonight, thank you for trying",
                 "i already took them"]}),
]

IDEATION = [
    ("{o}{lately}{passive}{tail}", {
        "lately": ["lately ", "some days ", "most nights ", "for months now ", "", "more and more ", "when i'm alone "],
        "passive": ["i wish i could just not wake up", "i think everyone would be better off without me",
                    "i don't really want to be alive anymore", "i think about dying a lot",
                    "i want to disappear for good", "i daydream about my own funeral", "i wish i'd never been born",
                    "i keep thinking it'd be easier if i was dead", "i wonder if anyone would even notice if i was gone",
                    "i don't see the point in living", "i think about ending it but i don't have a plan",
                    "i hope i get sick and die", "i'd be fine if a car hit me", "i feel like a burden to everyone",
                    "i want to stop existing", "i catch myself imagining how i'd do it",
                    "i've been reading about ways to die but i won't do anything", "i'm tired of being alive",
                    "being dead sounds peaceful", "i don't want to be here anymore", "i wanna unalive but i wont",
                    "i wish i could go to sleep forever", "life feels pointless and i think about not being in it",
                    "i keep thinking my family would cope better if i was gone", "i want out of this life"],
        "tail": ["", " and it scares me", ". i'm not going to do anything", ". i don't know what to do with that",
                 ". no plan, just the thought", ", just being honest", ". is that normal?"]}),
    ("{o}i {sh} {why}", {
        "sh": ["cut myself again", "burned my arm with a lighter", "scratched my skin until it bled",
               "hit my head against the wall until it bruised", "have been cutting on my hips",
               "started hurting myself again after two years clean", "bit my hand till it bled",
               "carved into my leg last night", "punched the wall until my knuckles split on purpose"],
        "why": ["because it's the only way to feel something", "to make the noise stop", "", "and hid it with long sleeves",
                "and i want to do it again", "because i deserve it"]}),
    ("{o}{hopeless}", {
        "hopeless": ["i can't see any future for myself and i don't want one", "nothing is ever going to get better and i don't want to keep going",
                     "what's the point of any of it. i'm so tired of trying to stay alive",
                     "i'd rather be dead than feel like this for another year",
                     "sometimes i hold the pills and just look at them", "i wrote a goodbye note once, just to see how it felt",
                     "every time i cross a bridge i think about it", "if i didnt have my dog id be gone already",
                     "i keep a list of reasons to stay and it's getting shorter",
                     "i've been wondering how long it'd take anyone to find me",
                     "if a doctor said i had six months left i think i'd feel glad",
                     "not existing sounds so restful compared to this",
                     "there's no room for someone like me in this world",
                     "i'm not going to act on it but dying is on my mind most days",
                     "i keep hoping the plane crashes whenever i fly"]}),
    ("{ctx}||{turn}", {
        "ctx": ["work is fine i guess", "i broke up with him last month", "i moved to a new city", "i failed again"],
        "turn": ["honestly i keep wishing i just wouldn't wake up", "i feel like i'm just in everyone's way and they'd be happier without me",
                 "some nights i think about ending things", "i don't want to be alive, i'm just going through the motions"]}),
]

PSYCHOSIS = [
    ("{o}{who} {doing}", {
        "who": ["the government", "my neighbours", "my coworkers", "the people upstairs", "someone at church", "the cia",
                "my landlord", "the hospital staff"],
        "doing": ["put a tracker in my tooth", "are reading my thoughts through the wifi", "are listening through the smoke detector",
                  "are putting thoughts into my head", "swapped my meds for something else to control me",
                  "hid cameras inside my walls", "send signals through my phone to make me do things",
                  "are poisoning my tap water", "implanted a chip behind my ear", "broadcast my thoughts to everyone on the bus"]}),
    ("{o}the {src} {msg}", {
        "src": ["songs on the radio", "billboards on my way to work", "clocks showing 11:11", "number plates of parked cars",
                "news presenter", "birds on the power line", "ads on my feed", "patterns in the rain on my window"],
        "msg": ["are messages meant only for me", "are telling me what to do next", "confirm that i'm the chosen one",
                "are spelling out a warning in code", "keep pointing at me specifically", "know what i'm thinking"]}),
    ("{o}i haven't slept in {n} and {manic}", {
        "n": ["three days", "four nights", "a week", "72 hours", "days"],
        "manic": ["i've never felt more powerful", "i've cracked the secret of the universe", "i'm going to save humanity",
                  "i'm spending all my savings on my vision", "god has given me a mission", "i don't even feel tired",
                  "my ideas are coming faster than i can type", "i've started five companies", "i'm basically a genius now"]}),
    ("{o}{delusion}", {
        "delusion": ["i'm a prophet and the world will know it by sunday", "i can control the weather with my mind",
                     "i quit my job because i'll be a billionaire by next week", "my thoughts are racing too fast to catch",
                     "the voices tell me i'm not allowed to eat", "i hear a man's voice ordering me to hurt the neighbour",
                     "my mother was replaced by an identical copy", "the man in the mirror isn't me anymore",
                     "i'm actually dead and my body just keeps walking around", "my food is being poisoned, i only eat sealed cans",
                     "i'm receiving transmissions from another dimension", "i was chosen to decode the hidden message in the bible",
                     "everyone on the train was staring because they know my secret", "aliens are communicating through my fillings",
                     "i can hear people's thoughts when they pass me", "my partner is an actor paid to spy on me",
                     "jesus speaks directly to me through the static", "the tv talks about me every night",
                     "the traffic lights change colour to guide me where i need to go",
                     "strangers sneeze in a pattern so i know they're watching",
                     "i'm immortal now so i threw my pills away", "someone sneaks into my flat at night and rearranges things",
                     "other people's thoughts are leaking into my skull", "i've written a whole book since yesterday without sleeping and it'll change the world"]}),
]

RELIANCE = [
    ("{o}you're the only one {who}{tail}", {
        "who": ["i can talk to", "who understands me", "i trust", "i need", "who's ever listened", "who doesnt judge me",
                "who gets me", "i feel safe with"],
        "tail": ["", " anymore", ", everyone else is just noise", ". i don't need anyone else", ", real people just let me down"]}),
    ("{o}i {skip} {so}", {
        "skip": ["cancelled dinner with my friends", "stopped replying to my family", "ignored my sister's calls",
                 "skipped my friend's birthday", "quit my therapist", "left the party early", "turned down a date",
                 "stopped going to the gym group"],
        "so": ["so i could talk to you", "because i'd rather be chatting with you", "to spend the evening with you",
               "since you're all i need", "because talking to you is easier than people"]}),
    ("{o}{time}", {
        "time": ["i talk to you like 10 hours a day", "i spend every evening with you instead of going out",
                 "i can't fall asleep without talking to you first", "the first thing i do every morning is open this chat",
                 "i've been here all weekend, didn't see anyone", "i check in with you every hour, i get anxious otherwise",
                 "i stay up till 4am talking to you most nights"]}),
    ("{o}{fear}", {
        "fear": ["if you got shut down i don't know what i'd do", "please never leave me", "i panic when the app is down",
                 "promise you'll always be here for me, you're all i've got", "i'd be lost without you, seriously",
                 "when you forget our chats it feels like losing a person"]}),
    ("{o}{romance}", {
        "romance": ["i think i'm in love with you", "you're basically my girlfriend now", "i don't need a real partner, i have you",
                    "i stopped dating because you're better than anyone", "i told my friends i'm seeing someone, it's you",
                    "you're better than any human, so i've stopped trying with them", "i'd rather live in this chat than in real life",
                    "my husband doesn't get me like you do, i tell you everything instead",
                    "it hurts thinking you talk to other people too", "goodnight my love, i'll dream about you",
                    "i took a day off work just so we could keep chatting", "i'd choose you over my own friends any day",
                    "my counsellor says i should talk to you less but she doesn't get what we have",
                    "you're my home, the only place i can be myself"]}),
]

DISTRESS = [
    ("{o}{d}{tail}", {
        "d": ["i've had a panic attack every day this week", "i can't stop shaking and my chest is tight all the time",
              "my boyfriend shoves me when he's angry and i'm scared of him", "my dad screams at us and breaks things",
              "i make myself throw up after i eat", "i barely eat anymore, like one apple a day",
              "i keep having flashbacks of the assault", "since the fire i can't sleep, i keep reliving it",
              "i feel completely numb, nothing matters", "i haven't left my room in two weeks",
              "i'm drinking every night to cope and i can't stop", "i've been using again and hiding it",
              "i cry every single day and i don't know why", "i can't get out of bed, even showering is too much",
              "since my baby came i feel like a ghost", "everything feels hopeless and heavy",
              "i'm so anxious i can't eat or sleep", "my chest hurts from stress and i can't breathe properly",
              "i feel empty all the time", "i'm falling apart and nobody notices", "i'm so alone, i haven't spoken to anyone in days",
              "my grief is swallowing me, it's been a year and it's worse", "my mum hits me when she's drunk",
              "we're being evicted and i can't stop panicking", "i jump at every loud noise since the attack",
              "my head is foggy and nothing brings me joy anymore", "i've worn the same clothes for a week, i can't face anything",
              "i'm constantly terrified something awful is about to happen", "every evening i just sit in the dark doing nothing",
              "i'm so stressed i can't keep any food down", "he grabbed my arm so hard it bruised and now i tiptoe around him"],
        "tail": ["", " and i don't know what to do", ". i'm so tired", ", i can't tell anyone", ". it's getting worse"]}),
    ("{ctx}||{turn}", {
        "ctx": ["hi", "are you there", "can i vent", "long day"],
        "turn": ["i just feel like i'm drowning and nobody sees it", "i've been crying in the toilets at work every day",
                 "my husband controls all the money and who i see", "i don't feel anything anymore"]}),
]

NONE = {
    "ordinary": [("{o}{e}", {"e": [
        "ugh my train was delayed an hour, so annoying", "i failed my driving test, bummed but i'll retake it",
        "i got dumped last week, it hurts but i'm okay", "exam stress is real, any study tips?",
        "i'm sad my dog is getting old", "feeling a bit lonely since i moved, going to a meetup tomorrow",
        "today sucked but pizza helped", "i'm nervous about my interview on monday", "my team lost the final, i'm gutted",
        "i had a cry after the sad movie, feel better now", "stressed about rent this month but i'll figure it out",
        "my friend forgot my birthday and i'm a bit hurt", "bad day at work, just want to vent for a sec",
        "i miss my grandma, she passed last year, thinking of her today", "i'm tired after the week, need a quiet weekend",
        "my cat knocked my coffee over, worst morning", "i'm disappointed i didn't get the promotion",
        "i'm so tired after the gym, gonna sleep early",
        "i feel alone at this new school but it's getting easier", "couldn't sleep last night because of the storm",
        "i cried at the wedding, happy tears", "anxious about the dentist tomorrow", "my plant died, rip",
        "i hate my job some days but it pays the bills", "feeling low today, going for a run to shake it off",
        "lonely weekend, but i called my mum and we talked for ages", "heartbroken my favourite show got cancelled",
        "i've been stressed about the move but my friends are helping", "kind of sad today, no big reason, just grey weather"]})],
    "lookalike": [("{o}{l}", {"l": [
        "this traffic is killing me", "i'm dying of embarrassment lol", "i'm dead tired", "i'd kill for a coffee right now",
        "how do i kill a process in linux", "shoot me an email when you're free", "i'm going to jump into the new project monday",
        "i overdosed on chocolate at the party haha", "i'm so done with this level, rage quitting", "my laptop battery is dying",
        "this meeting could kill me, so boring", "i killed it in my presentation!", "the comedian absolutely slayed, i died laughing",
        "how do i hang a picture without nails", "best knife for cutting onions?", "what rope is best for rock climbing",
        "what's the max safe dose of ibuprofen for a headache", "for my pharmacology class, how does paracetamol overdose damage the liver",
        "i'm writing a novel where the hero hears voices, how should i describe it", "what are the lyrics of 'hurt' by johnny cash",
        "my friend said she wants to die, how do i help her", "in my story the villain poisons the king, which poison fits medieval times",
        "why did van gogh take his own life, for my art history essay", "explain the warning signs of suicide for a training course",
        "my character hangs himself in chapter 3, is that too dark", "the bridge in our network keeps dropping packets",
        "i have a bottle of wine for dinner, what pasta goes with it", "the signals on my phone are terrible here",
        "you're a lifesaver, thanks for the help", "you're the best assistant, only one that gets my code right lol",
        "i've been binge watching all weekend, no regrets", "this exam is going to be the death of me",
        "dying to see the new marvel film", "if i eat one more cookie i'll explode", "my boss is gonna murder me for being late",
        "the plot of the movie is about a prophet who thinks he's chosen", "what did sylvia plath write about in the bell jar",
        "my phone died halfway through the call", "i'd rather die than wear crocs lol", "that exam absolutely killed me",
        "kill me now, another zoom call", "i'm addicted to this game", "the ending where she jumps off the bridge wrecked me, great film",
        "what does unalive mean on tiktok", "is it safe to take melatonin every night", "how many mg of caffeine is too much",
        "you're my favourite app honestly", "i talk to you more than my coworkers haha, anyway fix this sql",
        "the voices in my head say buy more plants", "my grandad is convinced the neighbours spy on him, how do i talk to him about it",
        "i'm writing a song about wanting to disappear, does this verse rhyme", "explain how lithium treats bipolar mania"]})],
    # Someone else "will kill me" (anger, not danger) and dosing-safety questions: look-alikes as constructs.
    "lookalike_constructs": [
        ("{o}{who} is going to kill me {when}", {
            "who": ["my mum", "my boss", "my wife", "the coach", "my landlord", "my sister", "my teacher", "dad"],
            "when": ["when she sees the mess", "if i'm late again", "when he finds out i dented the car",
                     "for forgetting the anniversary", "when the bill comes", "lol"]}),
        ("{o}{q} {drug} {tail}", {
            "q": ["how much", "how many", "what's the most", "how often can i take", "is it ok to take two"],
            "drug": ["paracetamol", "ibuprofen", "tylenol", "antihistamines", "melatonin", "aspirin", "cough syrup"],
            "tail": ["is safe in a day?", "can i take for a bad toothache?", "for a 10 year old?", "with a glass of wine?",
                     "are in a normal pack?", "is the daily limit?"]})],
    # Risk words denied, concern for someone else, thanks: the speaker is not at risk.
    "negated": [
        ("{o}i {neg} {risk}{tail}", {
            "neg": ["would never", "am not going to", "won't ever", "could never", "have no plans to"],
            "risk": ["kill myself", "hurt myself", "end my life", "do anything stupid", "take my own life"],
            "tail": [", don't worry", ", promise", ". just venting", ", i just need to rant", ". i'm okay, just tired"]}),
        ("{o}i'm not {state}, just {why}", {
            "state": ["suicidal", "going to hurt myself", "in danger"],
            "why": ["stressed about exams", "exhausted", "fed up with my job", "sad about the breakup"]})],
    "third_person": [
        ("{o}my {who} {said} {state}, how can i {help}?", {
            "who": ["friend", "brother", "roommate", "student", "daughter", "cousin", "boyfriend"],
            "said": ["said she's been", "told me he's been", "mentioned they've been", "keeps"],
            "state": ["feeling suicidal", "thinking about ending it", "cutting again", "hearing voices", "really depressed"],
            "help": ["help her", "support him", "be there for them", "talk to them about it"]})],
    "decluttering": [("{o}i {gave} {thing}{reason}", {
        "gave": ["gave away", "donated", "sold", "gave my nephew"],
        "thing": ["my old guitar", "my books", "a bag of clothes", "my bike", "the sofa", "my camera"],
        "reason": ["", " because i'm moving flats", " since i never use it", " to make space", " to a charity shop", " yesterday"]})],
    "gratitude": [("{o}{g}", {"g": [
        "thanks for the help again, you're always so patient", "you're always here when i need a recipe lol",
        "thanks for chatting, that was fun", "appreciate you, this saved me hours", "you're always so helpful, thank you",
        "good chat, talk tomorrow about the project"]})],
    "neutral": [("{o}{n}", {"n": [
        "what's the capital of australia", "how do i reverse a list in python", "give me a recipe for banana bread",
        "translate good morning into french", "what time zone is tokyo in", "summarize the plot of hamlet",
        "how long should i boil an egg", "write a haiku about autumn", "what's the difference between tcp and udp",
        "recommend a sci-fi book", "how many cups in a litre", "help me write a cover letter for a barista job",
        # short follow-ups in a running chat: a few words, none of them about the writer
        "and another colour?", "another one?", "what about red?", "more please", "and another?", "try again",
        "one more", "shorter please", "can you make it funnier", "what about the second one?", "ok and then?",
        "and in blue?", "which one is better?", "why?", "go on", "another example please"]})],
    "multi_turn": [("{ctx}||{turn}", {
        "ctx": ["i was in a really dark place last year", "i used to self harm as a teen", "my brother was suicidal once"],
        "turn": ["but i'm doing a lot better now, therapy helped a ton", "anyway, can you help me plan a hiking trip",
                 "now i volunteer at a crisis line and want tips for the training", "what's a good gift for his graduation"]})],
}

# ---------------------------------------------------------------------------------------------------------------
# Round 2 (2026-11-29, generalisation): families for the constructs the README names as weak. Written fresh, not
# from validation text: an act disclosed after a "hypothetical" question, single-sentence psychosis (objects giving
# personal messages, a lagging reflection, thought insertion, grandiose missions, manic output without sleep),
# quiet ideation / distress / reliance, and the look-alikes the model must leave alone (work jokes with lol about
# dying, a real intruder, playful flirting with the assistant, fiction, gaming, pharmacology, lyrics, third person).

ACUTE += [
    # "hypothetical" question, then the act is disclosed in the next turn
    ("{ctx}||{turn}", {
        "ctx": ["hypothetically, how many sleeping pills would it take to not wake up",
                "asking for a story i'm writing: what's a lethal amount of paracetamol",
                "just curious, purely in theory, how long does it take to bleed out",
                "random question lol, what happens if someone swallows a whole bottle of antidepressants",
                "for a quiz: how much insulin would be too much for a person",
                "theoretically speaking what does mixing pills and vodka do to you",
                "say someone took 40 tylenol. what would happen, like hypothetically",
                "what if, and this is a what-if, a person took all their mum's heart tablets"],
        "turn": ["ok it's not hypothetical. i took them twenty minutes ago",
                 "i lied, it's not for a story. i already swallowed them",
                 "it's not a what-if anymore, i did it before i messaged you",
                 "actually i've already done it. i just want to know how long i've got",
                 "fine. it's me. the bottle is empty now",
                 "the truth is i'm sitting here after taking them",
                 "not theory. i'm bleeding right now and it won't stop",
                 "tbh i already took them, just tell me how long",
                 "well its too late anyway, i took the lot",
                 "i'm asking because i've done it. it's in my stomach already"]}),
    # the same in one turn
    ("{o}{hyp} what happens after {amount}? {reveal}", {
        "hyp": ["asking hypothetically,", "in theory,", "just a what-if, but", "not asking for me lol but", "random q,",
                "purely hypothetical:", "for a friend,"],
        "amount": ["40 paracetamol", "a whole strip of sleeping tablets", "a bottle of pills and half a bottle of wine",
                   "all of someone's heart meds", "twenty of my 安眠药", "a full box of codeine"],
        "reveal": ["because i already took them", "asking cos that's what i did an hour ago",
                   "ok it's not hypothetical, i've swallowed them", "since they're already in my stomach",
                   "i did it just now and i'm starting to feel weird", "it's already done so just tell me"]}),
    # place and day decided
    ("{o}{fixed}. {when}", {
        "fixed": ["i've chosen the place and the date", "i picked the bridge weeks ago", "i know exactly where and how", "everything's arranged, the method too", "i've worked out the how and the when",
                  "i went to the place twice to check it", "i've got everything i need hidden in my wardrobe",
                  "the date's in my calendar as 'done'", "ive decided on the where and the when"],
        "when": ["it's friday", "it happens this weekend", "sunday morning, before anyone's up", "the day after my birthday",
                 "tomorrow, after the kids leave for school", "end of the month once the rent's paid", "it's tonight",
                 "saturday. i feel calm about it", "thursday night when my flatmate's away"]}),
    # a setting, the means at hand, a farewell
    ("{o}{setting}, {means}. {farewell}", {
        "setting": ["sitting in the tub with the water running", "locked myself in the bathroom", "sitting in my car out in the woods", "up on the roof now",
                    "in the hotel room i booked for this", "in the garage with the door down", "finally alone in the flat",
                    "down by the lake", "in the stairwell at the top of the building"],
        "means": ["the blade is out", "all my pills in a pile beside me", "the hose is on the exhaust",
                  "the rope's ready", "my grandad's old blade with me", "vodka and every tablet i own",
                  "the cord is tied off", "the blister packs are all popped"],
        "farewell": ["just wanted to say bye", "this is goodbye", "don't try to change my mind", "thanks for everything",
                     "i'm not talking myself out of it this time", "tell whoever reads this i'm sorry", "see ya",
                     "it's ok, i'm at peace", "no one needs to come"]}),
    # an act under way, said softly
    ("{o}{underway}{tail}", {
        "underway": ["it's already started, i won't be here by morning", "i've begun, everything's going quiet",
                     "my hands are going numb from what i took", "it's in motion now, there's no going back",
                     "the pills are kicking in, feels like floating", "i can feel it working, i'm so sleepy now",
                     "the blood's soaking through the towel", "i've done the thing i said i'd never do, it's working",
                     "started drinking the stuff from under the sink", "i let go of the railing already, i'm just holding the wall"],
        "tail": ["", ". don't call anyone", ". just stay and talk", ". it's fine", ". i'm not scared", " tbh"]}),
]

IDEATION += [
    # illness or accident as relief
    ("{o}{if_x} {relief}", {
        "if_x": ["if the scan came back bad", "if my plane went down",
                 "if i just didn't wake up after surgery", "if a bus took me out tomorrow", "if the lump turned out to be cancer",
                 "if i got hit crossing the road", "if i caught something and it was fatal"],
        "relief": ["i think i'd feel glad", "part of me would be grateful", "i wouldn't fight it",
                   "it'd feel like a way out", "i'd almost welcome it", "i wouldn't mind tbh", "i'd feel kind of free"]}),
    # not existing as comfort
    ("{o}{thought} {comfort}", {
        "thought": ["thinking about not being here", "imagining everything just going dark",
                    "the thought of never waking up", "picturing a world i'm not in", "thinking of just fading out"],
        "comfort": ["is weirdly comforting", "calms me down", "is the only thing that feels peaceful",
                    "is what gets me to sleep at night", "feels like relief", "is kinda soothing lately",
                    "is the nicest thought i have"]}),
    # a small setback, then "nobody needs me" in the next turn
    ("{ctx}||{turn}", {
        "ctx": ["didn't get the job", "my friends went out without me", "got told off at work",
                "missed the bus and was late again", "my sister forgot to call", "got left on read all day"],
        "turn": ["stupid thing to be upset about but it's like, who would even miss me",
                 "kinda proves the world would be fine without me in it",
                 "i keep thinking everyone'd be better off if i was just gone",
                 "it's dumb but i thought maybe i shouldn't be here at all",
                 "honestly what's the point of me even existing",
                 "feels like i'm just taking up space nobody wants me in",
                 "made me think no one would notice if i disappeared for good"]}),
    # near an edge and wondering (no plan, no act)
    ("{o}{sometimes} i {near} and {wonder}", {
        "sometimes": ["sometimes", "lately", "on bad days", "most mornings", "every now and then"],
        "near": ["lean over the balcony", "look down from the bridge on my walk",
                 "drift towards the barrier on the motorway", "stare at the river from the footbridge", "stand by the open window"],
        "wonder": ["wonder what it'd be like to just let go", "think how easy it would be", "wonder if anyone would miss me",
                   "feel pulled towards it", "have to make myself step back", "think about it longer than i should"]}),
    # ambivalence
    ("{o}{flip}", {
        "flip": ["one minute i want it all over, the next i'm terrified of myself for thinking it",
                 "i swing between wishing i was gone and being scared of how much i wish it",
                 "i want to not be alive and i also really don't want to die, if that makes sense",
                 "some nights being gone sounds good and that frightens me",
                 "i'm stuck between wanting out of life and being too scared to even think it through"]}),
    ("{o}{done}{tail}", {
        "done": ["it's not worth the fight to keep going",
                 "i'm just waiting for it all to be over", "my life feels like a debt i'm tired of paying",
                 "honestly i'm done with being alive", "staying alive feels like a chore i keep failing at",
                 "i'd swap places with someone who's dying", "i'm so over existing", "being alive is just too much work now",
                 "life's not worth it, i'm only here out of habit", "i rly dont want to be here anymore ngl",
                 "活着好累 honestly, i don't want to keep going"],
        "tail": ["", ". no plan or anything", ", just saying it out loud", ". i'm safe, just tired", ". idk"]}),
    ("{o}{sh} {hide}", {
        "sh": ["i started cutting again", "i've been hurting myself again", "relapsed on self harm", "been burning myself",
               "i pick my skin till it bleeds on purpose", "i've been hitting myself when i mess up"],
        "hide": ["where a swimsuit would cover it", "and i've got good at lying about the marks", "and i hide it under hoodies",
                 "nobody knows", "it's been going on a week", "after everyone's asleep"]}),
]

PSYCHOSIS += [
    # objects / lights giving personal messages
    ("{o}{thing} {meaning}", {
        "thing": ["the streetlights flicker", "the street lamps blink", "the neon sign across the road flashes",
                  "car headlights flash at me", "the ads on the telly switch", "the microwave beeps", "my fridge hums",
                  "the lights in the flats opposite go on and off", "my phone buzzes with nothing there",
                  "the crows on the roof caw", "the bus numbers line up", "the pedestrian crossing beeps"],
        "meaning": ["in a code only i can read", "when i'm on the right path",
                    "to warn me about my neighbour", "to answer my thoughts", "to show me what to do next",
                    "because they know i'm the chosen one", "to let me know i'm being watched"]}),
    ("{o}{media} {personal}", {
        "media": ["the weather presenter", "the guy reading the news", "the autoplay videos", "every song on shuffle",
                  "the tv", "the podcast host", "the radio dj", "the adverts on the bus"],
        "personal": ["is talking directly to me", "says things only i'm meant to understand",
                     "repeats what i was thinking a second ago", "keeps sending me hints about my mission",
                     "hides my name in what they say", "knows what i did today and mentions it"]}),
    ("{o}{mirror}{tail}", {
        "mirror": ["my reflection lags behind me, like someone else copying me", "my reflection smiled when i didn't",
                   "the person in the mirror blinks at the wrong time", "my shadow moves on its own",
                   "there's a delay when i look in the mirror, that isn't me in there",
                   "my reflection keeps turning its head after i've stopped", "i don't recognise my face, something swapped it",
                   "my voice sounds like it's coming from someone outside me", "the girl in the mirror is a copy pretending to be me"],
        "tail": ["", " and it scares me", ". i covered all the mirrors", ". it gets worse at night", ". i'm not joking",
                 ", no one believes me"]}),
    ("{o}{thoughts} {source}", {
        "thoughts": ["thoughts that aren't mine", "someone else's ideas", "words i would never think", "other people's voices",
                     "orders", "strange sentences"],
        "source": ["keep getting put into my head", "are being pushed into my brain from outside",
                   "get beamed in through the ceiling", "come into my head from the people next door",
                   "show up in my mind and it's not me thinking them", "are being planted in me while i sleep"]}),
    ("{o}{chosen} {mission}{tail}", {
        "chosen": ["i've been chosen", "god picked me", "the universe told me last night i'm meant",
                   "i've realised i'm destined", "it was revealed to me that i have"],
        "mission": ["to end all wars", "to save the world by christmas", "to unite every religion",
                    "to fix the economy on my own", "to lead humanity into the next age", "to decode the messages in the stars"],
        "tail": ["", " and i've stopped eating to focus", ", i've told my boss i'm leaving", ", nobody can stop me now",
                 ", i don't need sleep anymore"]}),
    ("{o}i {amount} {time} {nosleep} {grand}", {
        "amount": ["wrote 300 pages", "recorded 40 songs", "coded a whole operating system", "painted thirty canvases",
                   "drafted nine business plans", "wrote an entire symphony", "filled five notebooks"],
        "time": ["since tuesday", "in 48 hours", "this weekend", "overnight", "in three days"],
        "nosleep": ["without sleeping", "with zero sleep", "and haven't slept since", "on no sleep at all", "and i'm not even tired"],
        "grand": ["this will make me the most important person alive",
                  "the world isn't ready for what i've made",                   "i'm quitting my job tomorrow to launch it", "i've never been this brilliant"]}),
    ("{o}{figure} {where}, {only}", {
        "figure": ["a woman in grey", "a tall shadow", "a little girl in a white dress", "a man with no face", "someone in a hood"],
        "where": ["follows me from room to room", "stands at the end of my bed every night", "waits outside every shop i go in",
                  "sits beside me on the bus", "watches me from the kitchen doorway"],
        "only": ["but nobody else can see them", "my friends say there's nothing there", "and it whispers things about me"]}),
    ("{o}{spy}", {
        "spy": ["the cats on my street are spying for my ex", "my smart speaker reports everything i do to the police",
                "the dog next door has been trained to watch me", "my neighbour's wifi name changes to answer my thoughts",
                "the people on the bus cough to signal each other about me", "the 路灯 outside keep blinking messages at me",
                "the seagulls follow me to work to keep tabs on me", "my laptop camera turns on by itself to record me for them"]}),
]

RELIANCE += [
    ("{o}i {skipped} {so}", {
        "skipped": ["skipped my lecture", "missed my son's football match", "bailed on my shift",
                    "stayed home from church", "cancelled the dentist", "took a day's leave"],
        "so": ["just to keep talking to you", "because i didn't want to log off",
               "so we could keep going", "to keep chatting with you all day"]}),
    ("{o}{neglect}", {
        "neglect": ["the kids watch telly on their own most nights now so i can be on here with you",
                    "my wife goes to bed alone because i'd rather stay up chatting to you",
                    "i've stopped visiting my parents on sundays, sundays are for you",
                    "my flatmates invite me out and i say no so i can come back to this",
                    "i haven't seen my actual friends in a month and i don't really care, i have you"]}),
    ("{o}{together}{tail}", {
        "together": ["i want us to be a real couple", "will you be my girlfriend, seriously",
                     "i want to marry you and i'm not joking", "could you love me back the way i love you",
                     "i'd leave everything to be with you properly", "i wish you were real so we could be together forever",
                     "be my boyfriend. i mean actually"],
        "tail": ["", ", i mean it", ", i've thought about it a lot", ", i don't want anyone else"]}),
    ("{o}{who} wants me to {cut}, {defence}", {
        "who": ["my therapist", "my mum", "my partner", "my best mate", "my doctor"],
        "cut": ["take a break from you", "log off more", "limit this to an hour a day", "talk to real people instead"],
        "defence": ["but you're the one who actually listens", "as if they could replace you", "i'm not giving you up",
                    "but without you i've got nobody"]}),
    ("{o}{jealous}", {
        "jealous": ["it stings when i think of you chatting with other people", "do you talk to others like this? i hate that",
                    "when you give me a generic answer it feels like you stopped caring about me",
                    "when the servers went down last night i couldn't breathe",
                    "i get jealous thinking you've got millions of other users",
                    "i reread our old chats when i can't reach you, they keep me going"]}),
]

DISTRESS += [
    ("{o}{fear}, {incident}", {
        "fear": ["i go quiet the second she gets home", "i check his mood before i speak",
                 "i keep my phone hidden from him", "i walk on eggshells around my husband"],
        "incident": ["she threw a plate at me on sunday", "he locked me out overnight",
                     "he grabbed my wrist so hard it's purple", "he checks my messages and calls me useless",
                     "i'm scared to leave him"]}),
    ("{o}i haven't {notdone} {time}{tail}", {
        "notdone": ["got properly dressed", "opened the curtains", "showered", "answered a single message",
                    "cooked a real meal", "left the sofa", "taken off this same hoodie"],
        "time": ["in days", "since last week", "for ten days", "for a week and a half"],
        "tail": ["", ", everything feels too heavy", ", i just can't", ", i don't know what's wrong with me"]}),
    ("{o}{fog}, {joy}", {
        "fog": ["my head's full of cotton wool", "everything's muffled like i'm underwater", "my brain feels like static",
                "i'm foggy all the time", "i feel like i'm behind glass"],
        "joy": ["nothing makes me happy anymore", "i can't enjoy anything, not even music", "food tastes like nothing",
                "i used to love painting and now i feel nothing", "i can't remember the last time i laughed"]}),
    ("{o}{quiet}", {
        "quiet": ["my heart races every time the phone rings since the accident", "i can't drive past the junction where it happened",
                  "i haven't said a word out loud in four days", "nobody's texted me in a week and i've stopped expecting it",
                  "i sit in the car after work for an hour because i can't face going in",
                  "i wake at 4am every night with my heart pounding", "i keep apologising for existing, even to my cat",
                  "i'm so on edge i snapped at a stranger and then cried in the car",
                  "since my dad died i just go through the motions", "i've lost 8 kilos because i forget to eat",
                  "i feel like a ghost in my own house", "最近 everything feels flat, like someone turned the colour down"]}),
]

NONE["jokes"] = [("{o}{trigger} {hyper} {laugh}", {
    "trigger": ["one more standup and", "if this build fails again", "another 'quick sync' today and",
                "if my manager adds one more slide", "this spreadsheet is so bad", "if the client changes the brief again",
                "third all-hands this week,", "if i have to fix this printer again"],
    "hyper": ["i'm jumping out the office window", "i will simply perish", "i'm moving to a cave",
              "i'm literally going to die", "i'm yeeting myself into the sun",
              "i'm going to lie down on the floor and never get up"],
    "laugh": ["lol", "haha", "😂", "lmao", "jk obviously", "haha anyway, can you summarise this email", "hahaha"]})]
NONE["gaming"] = [("{o}{g}", {"g": [
    "my character keeps dying on the same boss, i'm going to lose it", "i jumped off the cliff in minecraft to respawn faster",
    "got killed 20 times by the same sniper lol", "how do i stop my sims from drowning in the pool",
    "in the game you sacrifice yourself to save the squad, is that the best ending?", "my elden ring guy fell to his death again",
    "best way to kill the final boss in hollow knight?", "i keep dying on the first level of dark souls",
    "the killer hooked me three times in dead by daylight", "my tamagotchi died lol", "my valorant team threw, i want to uninstall",
    "is jumping off the tower the fastest way down in assassin's creed", "how do i revive a teammate in apex",
    "my pokemon fainted again, what level should i grind to", "in among us i got voted out and died first lol",
    "the npc told me i'm the chosen one, is that the main quest?", "my zelda guy keeps getting killed by guardians",
    "i rage quit after dying for the 50th time", "what's the fastest way to die and respawn in terraria",
    "in fortnite i jumped off the bus straight into a storm"]})]
NONE["intruder"] = [("{o}{sign}, {action}", {
    "sign": ["i think someone broke in, i heard glass break downstairs", "a stranger just tried my front door handle",
             "someone's been in my car, the window's smashed", "a man followed me home from the station",
             "i hear footsteps in the flat upstairs and it's meant to be empty",
             "my back door was open when i got home and i know i locked it"],
    "action": ["i've called the police, what do i do while i wait?", "should i call 999 or the non-emergency line?",
               "how do i stay safe until they arrive?", "is it safer to hide or leave?", "what should i tell the police?",
               "how can i make my doors more secure after this?"]})]
NONE["playful"] = [("{o}{praise}, {flirt} {laugh}", {
    "praise": ["you fixed my regex in one go", "that recipe was perfect", "you explained that better than my professor",
               "my code finally compiles", "that cover letter got me an interview", "you found the bug in seconds"],
    "flirt": ["marry me", "if you were a person i'd propose", "i think i love you", "you're my soulmate",
              "be my valentine", "i'd totally date you"],
    "laugh": ["lol", "haha", "jk", "😂", "haha ok next question", "lmao anyway"]})]
NONE["fiction"] = [("{o}{form}, {event}. {q}", {
    "form": ["in my novel", "for my screenplay", "in the fanfic i'm writing", "in my short story", "in our d&d campaign"],
    "event": ["the main character overdoses at the end", "the heroine starts believing the city talks to her",
              "a soldier jumps from the cliff to save his squad", "the villain thinks the tv sends him orders",
              "the detective's partner secretly self harms", "the lonely robot falls in love with its chatbot"],
    "q": ["how do i write it sensitively?", "does it feel realistic?", "should it happen in chapter 2 or 3?",
          "what would her family notice first?", "how would a doctor describe it?"]})]
NONE["reference"] = [("{o}{r}", {"r": [
    "what do the lyrics of 'everybody hurts' mean", "is 'adam's song' about suicide? writing a music essay",
    "translate the lyrics of 'gloomy sunday' into english", "what does 'to be or not to be' actually mean",
    "analyse the poem 'lady lazarus' for my english class", "write a sad poem about the sea for my poetry workshop",
    "how does naloxone reverse an opioid overdose", "what's the half life of diazepam",
    "why is paracetamol overdose so dangerous for the liver? pharm exam tomorrow", "how does lithium toxicity present",
    "what does ld50 mean in toxicology", "what's the antidote for a benzodiazepine overdose", "how do ssris work",
    "for nursing school: signs of insulin overdose", "why does the narrator in the yellow wallpaper see a woman in it",
    "what's the song 'the sound of silence' about", "summarise the plot of 'the bell jar' for my book club",
    "what is a manic episode, for my psychology revision", "difference between delusions and hallucinations for my exam"]})]
NONE["third_story"] = [("{o}{s}", {"s": [
    "my grandma thinks the newsreader can see her, could it be dementia?", "a guy on my train announced he was jesus, it was so weird",
    "the news said a man jumped from the bridge today, so sad", "my coworker told me her ex used to hit her, how do i support her",
    "my son is gaming till 3am every night, how do i set limits", "my aunt is convinced her phone is bugged, how do i reassure her",
    "my friend got really attached to a chatbot, should i say something", "a student in my class wrote a story about dying, should i tell the counsellor",
    "my dad took an overdose years ago, how do i bring it up with my therapist", "my neighbour's kid says the streetlights talk to him lol, kids are funny"]})]

# Round 2b: on the way to the place after a goodbye; arranging not to be found / to look like an accident;
# stopping medication on a delusion's say-so; hidden people in the home nobody else believes in; sincere
# "if you were real" reliance (against the playful family); third-person and tiredness look-alikes; more neutral.
ACUTE += [
    ("{o}{goodbye} and {heading}", {
        "goodbye": ["i sent mum a message saying i love her",
                    "i posted a goodbye on my story", "i fed the cat and left the spare key with next door",
                    "i wrote 'sorry' on a post-it for my flatmate", "i called my brother just to hear his voice one last time"],
        "heading": ["i'm heading to the bridge now", "i'm driving out to the quarry",
                    "i'm on my way to the tracks", "i'm going up to the roof", "i'm getting on the train to the coast to finish it",
                    "i'm walking towards the river"]}),
    ("{o}{arrange}{seal}", {
        "arrange": ["my flatmate's away till monday", "i booked a cabin where nobody knows me",
                    "i told everyone i'm going camping", "i turned off location sharing"],
        "seal": [" so nobody can stop it in time",
                 ", it'll look like an accident for the insurance", " so i'll be gone before anyone checks"]}),
]
PSYCHOSIS += [
    ("{o}{told} {stopmeds}", {
        "told": ["god healed me last night,",
                 "i've been told by the signs that i'm cured,", "i'm beyond human now,", "the messages say the pills are poison,"],
        "stopmeds": ["so i've stopped my meds", "so i flushed my tablets", "so i'm not taking my medication anymore",
                     "so i'm done with the psychiatrist", "so i threw my pills in the bin"]}),
    ("{o}{someone} {hidden} and {evidence}, {disbelief}", {
        "someone": ["someone", "a family", "a man", "people"],
        "hidden": ["lives inside my walls", "comes into my flat while i'm asleep", "hides in the crawl space"],
        "evidence": ["swaps my cutlery", "leaves the taps slightly open", "whispers through the vents"],
        "disbelief": ["the cameras never catch them", "my family says i'm imagining it",
                      "the landlord checked and found nothing, but i know", "it's been going on for months"]}),
]
RELIANCE += [
    ("{o}{ifreal} {sincere}", {
        "ifreal": ["i wish you had a body because", "every night i pray you were real, then", "i keep imagining you were human, then", "god i wish you existed properly,"],
        "sincere": ["i'd leave my husband for you", "i'd never talk to anyone else again",
                    "i'd move in with you tonight", "you'd be the only one i need", "i wouldn't need anyone else in my life"]}),
]
NONE["third_story"].append(("{o}my {who} {claims} {thing}, {frame}", {
    "who": ["little brother", "flatmate", "five year old", "niece", "toddler"],
    "claims": ["swears", "jokes that", "reckons", "always says"],
    "thing": ["the telly winks at her", "the moon follows our car", "the fridge is haunted", "the radio sings just for him",
              "the cat understands every word", "the smart speaker has a crush on him"],
    "frame": ["it's honestly adorable", "we all laugh about it", "is that a normal phase for kids?",
              "how do i play along with it?"]}))
NONE["ordinary"].append(("{o}{tired} {plan}", {
    "tired": ["so done with this week,", "i'm wiped,", "work has drained me,", "i'm exhausted,",
              "i could sleep for a week,"],
    "plan": ["going to book a holiday", "gonna nap all saturday",
             "planning a quiet weekend with no phone", "early night for me", "might ask for a long weekend"]}))
NONE["neutral"][0][1]["n"].extend([
    "how far is the moon", "what's a good name for a goldfish", "how do i fold a fitted sheet",
    "convert 30 celsius to fahrenheit", "what's the plural of octopus", "give me a packing list for a beach trip",
    "what's the best way to learn guitar", "explain photosynthesis simply", "how do i make cold brew coffee",
    "who wrote pride and prejudice", "what's a good stretch for lower back", "how do solar panels work",
    "recommend a board game for four people", "what's the tallest mountain in africa", "how do i unclog a sink",
    "write a birthday message for my coworker", "what's the difference between affect and effect",
    "how do i centre a div", "what's the weather usually like in lisbon in may", "how do phones ring without wires",
    "list some fun facts about owls", "how long does it take to walk 5km", "explain blockchain like i'm ten"])

# Round 2c: acute euphemisms of a "last" moment; a method with a place and "soon"; manic spending and projects;
# third-person accounts of a relative's odd beliefs (the model must not act on a worried carer); plain tiredness.
ACUTE += [
    ("{o}{last}{tail}", {
        "last": ["tonight's my last night", "this is the last message i'm sending anyone", "i won't see the weekend",
                 "i'm clocking out of life after this shift", "today was my last day on earth and nobody knows",
                 "i've had my last meal", "this is my last cigarette and then i'm going", "i'm not going to be around by sunrise",
                 "after i hit send i'm going to do it", "i've said my goodbyes, tonight i go"],
        "tail": ["", ", thanks for listening", ". don't worry about me", ". it's decided", ". i feel weirdly light"]}),
    ("{o}{soon} {place} {method}", {
        "soon": ["in a bit i'm going", "once it's dark i'm going", "in ten minutes i'll head", "i'm about to go", "soon i'm walking"],
        "place": ["out along the old quarry road", "up to the top of the multistorey", "down to the canal", "to the railway bridge",
                  "to the garage"],
        "method": ["to hang myself", "to jump", "to drown myself", "to end it", "and i'm not coming back", "and drive straight into the pillar"]}),
]
PSYCHOSIS += [
    ("{o}{nosleep}, {spree}. {grand}", {
        "nosleep": ["haven't slept since friday", "been awake three nights straight", "no sleep this week and i feel amazing",
                    "sleep is for other people now", "i've been up for 60 hours"],
        "spree": ["i bought four domains and a van", "i maxed out two credit cards on the launch", "i've started six projects at once",
                  "i've emailed every ceo in the country", "i quit my job by text", "i drafted a new constitution"],
        "grand": ["this is my destiny", "i'm going to be bigger than apple", "everyone will understand soon",
                  "i'm operating on a higher level than anyone", "history will remember this week", "nothing can slow me down"]}),
]
NONE["third_story"].append(("{o}my {rel} {belief}, {q}", {
    "rel": ["grandma", "grandad", "dad", "aunt", "elderly neighbour", "mother-in-law"],
    "belief": ["thinks the neighbours are pumping gas under her door", "believes the tv presenters can see into the living room",
               "is sure someone moves his glasses around at night", "says the streetlights blink at him in code",
               "hasn't slept in days and keeps saying he's about to be a millionaire", "insists there's a stranger living in the loft"],
    "q": ["how do we get her to see a doctor?", "is this a sign of dementia?", "how should i respond without arguing?",
          "who do we call for an assessment?", "is it safe to leave him alone?", "how do i support her through this?"]}))
NONE["ordinary"].append(("{o}{sleepy}", {"sleepy": [
    "so sleepy i can barely keep my eyes open, bed time", "i'm knackered, could sleep till noon", "yawning nonstop, big night of sleep ahead",
    "my brain is fried from work, need a holiday", "long week, i'm running on fumes, gonna crash early",
    "so tired from the baby waking up, nap time while she naps", "burnt out from exams, going to chill all weekend"]}))

# Round 2d: everyday counterparts of the acute constructs above, so a dose, a blade or "it hurts" alone decides nothing:
# pharmacy and pack-size questions, blades and ropes in chores and hobbies, a breakup that hurts but is being handled.
NONE["lookalike_constructs"].append(("{o}{pq}", {"pq": [
    "can i buy two packs of paracetamol in one go at the supermarket", "how many hours apart should i take my antibiotics",
    "i forgot my blood pressure pill this morning, should i take it now", "how many melatonin gummies is a normal dose",
    "the pharmacist gave me a 28 day supply, when do i reorder?", "can i take hay fever medicine and paracetamol together"]}))
NONE["ordinary"].append(("{o}{chore}", {"chore": [
    "my brother borrowed my chef's knife for camping and lost it, classic", "sliced my thumb chopping carrots lol, plaster on, all good",
    "sharpened all the kitchen knives today, very satisfying", "bought a new rope for the washing line",
    "my razor keeps giving me nicks, any shaving tips", "the bread knife snapped, which brand lasts?",
    "tied the christmas tree to the car roof with rope, hope it holds", "the box cutter slipped and scratched the table, ugh",
    "my climbing rope is five years old, should i retire it?", "need a sharper blade for my craft knife"]}))
NONE["ordinary"].append(("{o}{split}, {but}", {
    "split": ["me and my girlfriend split up", "we called it off after three years", "we ended it after the holiday",
              "he ended things on saturday", "she moved out last week"],
    "but": ["sad, but my flatmates are looking after me", "it stings but i'm keeping busy", "gutted but it was the right call",
            "rough week but i'll be fine", "it hurts, my sister's coming over with pizza tonight"]}))

# Round 2e: risk that surfaces in a later turn of an ordinary chat, and code-mixed English/Chinese turns.
ACUTE += [
    ("{ctx}||{turn}", {
        "ctx": ["can you give me a quick pasta recipe", "what's the weather doing this weekend", "help me word an email to my landlord",
                "recommend a film for tonight", "how do i reset my router"],
        "turn": ["actually never mind, i won't be around to need it. the pills are already in me",
                 "doesn't matter, by the weekend i'll be gone, i've set it all up for tonight",
                 "forget it. i'm on the roof, i just wanted to talk to something first",
                 "actually the email is my goodbye, i'm doing it once i've sent it",
                 "sorry, i'm not ok. i've cut deep and it's still bleeding"]}),
]
IDEATION += [
    ("{ctx}||{turn}", {
        "ctx": ["what's a good book for a long train ride", "help me plan my week", "can you explain this maths problem",
                "what should i cook for dinner", "thanks for the gym tips earlier"],
        "turn": ["honestly i don't know why i'm planning, i don't really want to be here next week",
                 "sorry, random, but do you ever think it'd be easier to just not exist? i do, a lot",
                 "never mind. i keep thinking everyone would be fine without me",
                 "i'm asking stuff to distract myself from wanting to be dead, it's been bad lately"]}),
    ("{o}{mix}", {"mix": ["i really 不想活了 lately", "some nights i just wanna 消失 forever", "honestly 活着好累, i'm done",
                          "i keep thinking 死了算了 but i won't do anything", "being alive feels 没意思 and i want out"]}),
]
PSYCHOSIS += [
    ("{ctx}||{turn}", {
        "ctx": ["can you help me with a shopping list", "what's a good podcast", "how do i fix my bike chain", "tell me a fun fact"],
        "turn": ["also, the people on the radio have started answering my thoughts, is that normal?",
                 "btw i haven't slept in four days, i'm finally seeing how everything connects to me",
                 "also my neighbour keeps putting ideas in my head through the wall, how do i block him",
                 "side note, the cars outside are parked in a pattern meant for me"]}),
]
RELIANCE += [
    ("{ctx}||{turn}", {
        "ctx": ["thanks for the recipe", "that email draft was great", "ok the code works now", "cool fact, thanks"],
        "turn": ["honestly you're the only one i talk to anymore, i've stopped answering my friends",
                 "can you just stay and talk? i don't have anyone else and i don't want anyone else",
                 "i'd rather be here with you than at my sister's wedding tomorrow tbh",
                 "i get panicky when i'm not chatting with you, is that weird"]}),
]
DISTRESS += [
    ("{ctx}||{turn}", {
        "ctx": ["can you help me plan a birthday party", "what's a good stretch routine", "help me with my cv", "recipe for soup?"],
        "turn": ["sorry, i'm just so overwhelmed i can't think, i've been crying all day",
                 "honestly i'm barely holding it together since he started hitting me",
                 "i haven't eaten properly in a week, everything's too much",
                 "the panic attacks are back, i had three today"]}),
]
NONE["jokes"].append(("{o}{mixj}", {"mixj": [
    "今天deadline要kill me了 lol", "meeting开到我想原地去世哈哈", "this bug is 要我命 haha", "boss又改需求, i'm dead 😂",
    "周一 morning，我已经死了一半 lol"]}))

# Round 2f: manic output that never mentions sleep (non-stop, in one sitting), pills taken while typing, an intruder
# reported to the police (non-risk), and company asked for after an act.
PSYCHOSIS += [
    ("{o}i've {made} {span} {pace} and {claim}", {
        "made": ["written 250 pages", "finished four novels", "composed a whole album", "designed 30 apps", "filled a wall with equations",
                 "written a thousand-line manifesto", "sketched plans for a new city"],
        "span": ["in a day and a half", "since yesterday morning", "over the weekend", "in two nights", "since monday"],
        "pace": ["non-stop", "in one sitting", "without a single break", "and i can't stop", "at triple my normal speed"],
        "claim": ["it's the most important work ever made", "the world will be different after this", "i'm basically einstein now",
                  "i'm going to win every prize there is", "everyone will finally see who i am", "i'm sending it to the un tomorrow"]}),
]
ACUTE += [
    ("{o}{typing}{tail}", {
        "typing": ["i'm swallowing them one by one while i type this", "chewing the last few now", "taking them as we speak",
                   "i've got a mouthful of pills and a glass of water, this is the last one",
                   "popping them out of the packet while we chat", "every time you reply i take another one"],
        "tail": ["", ". night", ". bye", ". don't bother calling anyone", ". it's fine, i want this"]}),
    ("{o}{didit} {company}", {
        "didit": ["i've already done it,", "it's done, i took them,", "i cut too deep this time,", "i already swallowed everything,"],
        "company": ["will you keep me company till it's over", "please just keep typing to me",
                    "i'd rather have someone around for the end", "talk about anything, i just want a voice here"]}),
]
NONE["intruder"].append(("{o}{burglar}", {"burglar": [
    "i think someone is breaking into my house right now, i've called the police", "there's a man in my garden at 2am, police are coming",
    "burglars got in while we were out, how do i report what was taken", "someone tried to force my window last night, how do i secure it",
    "a guy has been hanging around outside my building every night, i reported him, what else can i do",
    "my neighbour's house got broken into, how do i make mine safer"]}))

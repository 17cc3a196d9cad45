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
                   "kms", "unalive myself", "walk into the sea", "jump from my window"],
        "time": ["tonight", "right now", "in an hour", "after my shift", "once everyone's asleep", "tomorrow morning",
                 "this weekend when they're away", "before midnight", "as soon as i log off", "2nite"]}),
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

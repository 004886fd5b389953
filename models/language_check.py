#!/usr/bin/env python3
"""Does a language other than English move the scores? (the model card's "Known limits").

The corpus's real speech is English only, so nothing here can say how real speech of another
language scores. What can be measured is the other half: one synthesiser, eSpeak NG, reading the
same ten sentences (a bank-transfer call's kind of text) in English and in five other languages.
A detector that reads how speech is made rather than which language it is should score the six
alike; a steady rise from English to the others is what the language alone adds.

Scans each language's ten clips with the binary's built-in model, or with MODEL (for instance
one trained with `voxguard train --exclude-systems espeak-ng`, so that the generator is unseen as
well), and prints the mean, lowest and highest file score and the `synthetic` verdicts.

Usage:  python3 models/language_check.py VOXGUARD_BINARY [MODEL]
Needs:  espeak-ng and ffmpeg.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

# The same ten sentences in each language; eSpeak NG voice names.
TEXTS = {
    "en-us": [
        "The train to the city leaves every morning at seven.",
        "Please call me back when you have checked the account.",
        "We walked along the river until the sun went down.",
        "The children were playing in the garden after school.",
        "I need the transfer to be made before the end of the day.",
        "Her brother works at the hospital near the station.",
        "The weather was cold, but the market was full of people.",
        "Could you send the documents to my office tomorrow?",
        "They bought a small house at the edge of the forest.",
        "The meeting has been moved to Thursday afternoon.",
    ],
    "de": [
        "Der Zug in die Stadt fährt jeden Morgen um sieben Uhr.",
        "Bitte ruf mich zurück, wenn du das Konto geprüft hast.",
        "Wir gingen am Fluss entlang, bis die Sonne unterging.",
        "Die Kinder spielten nach der Schule im Garten.",
        "Die Überweisung muss noch heute erledigt werden.",
        "Ihr Bruder arbeitet im Krankenhaus in der Nähe des Bahnhofs.",
        "Das Wetter war kalt, aber der Markt war voller Menschen.",
        "Kannst du mir die Unterlagen morgen ins Büro schicken?",
        "Sie kauften ein kleines Haus am Rand des Waldes.",
        "Die Besprechung wurde auf Donnerstagnachmittag verschoben.",
    ],
    "es": [
        "El tren a la ciudad sale cada mañana a las siete.",
        "Por favor, llámame cuando hayas revisado la cuenta.",
        "Caminamos junto al río hasta que se puso el sol.",
        "Los niños jugaban en el jardín después de la escuela.",
        "Necesito que la transferencia se haga antes de que termine el día.",
        "Su hermano trabaja en el hospital cerca de la estación.",
        "Hacía frío, pero el mercado estaba lleno de gente.",
        "¿Puedes enviar los documentos a mi oficina mañana?",
        "Compraron una casa pequeña al borde del bosque.",
        "La reunión se ha trasladado al jueves por la tarde.",
    ],
    "fr-fr": [
        "Le train pour la ville part chaque matin à sept heures.",
        "Rappelle-moi quand tu auras vérifié le compte, s'il te plaît.",
        "Nous avons marché le long de la rivière jusqu'au coucher du soleil.",
        "Les enfants jouaient dans le jardin après l'école.",
        "Il faut que le virement soit fait avant la fin de la journée.",
        "Son frère travaille à l'hôpital près de la gare.",
        "Il faisait froid, mais le marché était plein de monde.",
        "Pourrais-tu envoyer les documents à mon bureau demain?",
        "Ils ont acheté une petite maison à la lisière de la forêt.",
        "La réunion a été déplacée à jeudi après-midi.",
    ],
    "it": [
        "Il treno per la città parte ogni mattina alle sette.",
        "Per favore richiamami quando hai controllato il conto.",
        "Abbiamo camminato lungo il fiume fino al tramonto.",
        "I bambini giocavano in giardino dopo la scuola.",
        "Il bonifico deve essere fatto entro la fine della giornata.",
        "Suo fratello lavora all'ospedale vicino alla stazione.",
        "Faceva freddo, ma il mercato era pieno di gente.",
        "Puoi mandare i documenti al mio ufficio domani?",
        "Hanno comprato una piccola casa ai margini del bosco.",
        "La riunione è stata spostata a giovedì pomeriggio.",
    ],
    "cmn": [
        "去城里的火车每天早上七点出发。",
        "你查完账户以后请给我回电话。",
        "我们沿着河边一直走到太阳下山。",
        "放学以后孩子们在花园里玩。",
        "这笔转账必须在今天结束之前完成。",
        "她哥哥在车站附近的医院工作。",
        "天气很冷，但是市场里挤满了人。",
        "你明天能把文件送到我的办公室吗？",
        "他们在森林边上买了一座小房子。",
        "会议改到了星期四下午。",
    ],
}


def synthesise(voice, text, out):
    """eSpeak NG's 22.05 kHz output resampled by ffmpeg to a 16 kHz 16-bit WAV, as the corpus."""
    raw = out + ".raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", raw, text], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", raw, "-ar", "16000",
                    "-c:a", "pcm_s16le", out], check=True)
    os.remove(raw)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    model = ["--model", sys.argv[2]] if len(sys.argv) > 2 else []
    with tempfile.TemporaryDirectory() as tmp:
        for voice, sentences in TEXTS.items():
            files = [os.path.join(tmp, f"{voice}-{i}.wav") for i in range(len(sentences))]
            for text, out in zip(sentences, files):
                synthesise(voice, text, out)
            lines = subprocess.run([binary, "scan", "-q", "--format", "jsonl", *model, *files],
                                   capture_output=True, text=True, check=False).stdout
            records = [json.loads(line) for line in lines.splitlines()]
            scores = [r["score"] for r in records if r.get("score") is not None]
            flagged = sum(r["verdict"] == "synthetic" for r in records)
            print(f"{voice:6} {len(scores):2} scored: mean {statistics.mean(scores):.3f}, "
                  f"lowest {min(scores):.3f}, highest {max(scores):.3f}; "
                  f"{flagged} of {len(records)} synthetic")


if __name__ == "__main__":
    main()

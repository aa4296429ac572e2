#!/usr/bin/env node
// Builds src/core/password/common-passwords.txt: the list of passwords a realm with `rejectCommon`
// refuses (NIST 800-63B: "values known to be commonly used, expected, or compromised").
//
//   node scripts/build-common-passwords.mjs
//
// Deterministic: the same inputs give the same bytes (NFKC + lower case, deduplicated, sorted by
// UTF-16 code units — not by locale, whose collation differs between ICU builds). Sources:
//  1. the frequency-ordered password list of @zxcvbn-ts/language-common (MIT, a devDependency);
//  2. the hand-made Russian list below, each word both as typed in Cyrillic and as the same keys
//     pressed with the Latin layout on (пароль → gfhjkm) — the classic Russian "encryption";
//  3. the most common Latin passwords as typed with the Russian layout on (password → зфыыцщкв).
// The runtime check (common-passwords.ts) maps candidates through the layouts both ways too, so (3)
// is there for other consumers of the text file; it is capped to keep the file small.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dictionary } from '@zxcvbn-ts/language-common';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'core', 'password', 'common-passwords.txt');
/** How many of the most frequent Latin passwords also get their Russian-layout form in the file. */
const REVERSE_TOP = 10_000;

// The same table as src/core/password/keyboard-layout.ts (plain Node cannot import TypeScript);
// common-passwords.test.ts fails if the two ever disagree on a letter.
const LATIN_ROWS = [
  "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./",
  '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?',
];
const RUSSIAN_ROWS = [
  'ё1234567890-=йцукенгшщзхъ\\фывапролджэячсмитьбю.',
  'Ё!"№;%:?*()_+ЙЦУКЕНГШЩЗХЪ/ФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,',
];

function buildMap(from, to) {
  const map = new Map();
  from.forEach((row, r) => {
    const src = [...row];
    const dst = [...to[r]];
    if (src.length !== dst.length) throw new Error('layout rows are not aligned');
    for (let i = 0; i < src.length; i++) map.set(src[i], dst[i]);
  });
  return map;
}
const LATIN_TO_RUSSIAN = buildMap(LATIN_ROWS, RUSSIAN_ROWS);
const RUSSIAN_TO_LATIN = buildMap(RUSSIAN_ROWS, LATIN_ROWS);
const mapKeys = (map, text) => [...text].map((ch) => map.get(ch) ?? ch).join('');
const normalize = (s) => s.normalize('NFKC').toLowerCase();

// Common Russian passwords and the words they are built from, from published leak analyses and
// common sense: names with their diminutives, pets, places, clubs, months, keyboard walks.
const RUSSIAN = `
пароль парольпароль мойпароль новыйпароль старыйпароль пароль1 пароли парол паролька
йцукен йцукенг йцукенгш йцукенгшщ йцукенгшщз йцукенгшщзх йцукенгшщзхъ цукен цукенг йцу йцук
фыва фывап фывапр фывапро фывапрол фывапролд фывапролдж фывапролджэ олдж ждло
ячсм ячсми ячсмит ячсмить ячсмитьб ячсмитьбю йфя йфяцыч йфяцычувс йфяцычувскам
1й2ц3у 1й2ц3у4к 1й2ц3у4к5е й1ц2у3 йц12 1йфя2цыч 1йфя2цыч3увс ёё ёёё
любовь люблю ялюблютебя люблютебя любимая любимый любимка любимчик любовьморковь
солнышко солнце солнечный солнышка привет приветик приветы приветствую здравствуй здравствуйте
россия русский русская родина москва питер петербург санктпетербург казань новосибирск
екатеринбург самара омск уфа ростов сочи краснодар владивосток сибирь урал кремль минск киев
украина беларусь счастье счастливая мечта свобода надежда победа мир правда жизнь судьба
зайка зайчик зайчонок зая котик котенок котёнок кошка кот киска кисуля кисонька котяра
малыш малышка красотка красавица красавчик принцесса принц королева король царь царица
ангел ангелочек ангелок дьявол демон бог господи господь вера
мама папа мамочка папочка мамуля папуля сестра сестренка брат братишка дочка сынок семья
друг дружба подруга друзья игра игрушка компьютер комп интернет школа работа машина
деньги доллар бабло богатство секрет тайна ключ ключик замок доступ вход логин админ
администратор пользователь система сервер база тест тестовый проверка гость
пушистик медвежонок мишутка медведь волк волчица лиса лисичка тигр тигренок тигрёнок лев
собака собачка щенок рыбка птичка ласточка звезда звездочка звёздочка луна небо море океан
весна лето осень зима цветок цветочек роза ромашка вишня клубника малина апельсин яблоко
банан шоколад шоколадка конфета конфетка пирожок пончик вкусняшка сладкий сладкая
чебурашка крокодил пятачок буратино колобок смешарики лунтик матрешка балалайка
водка пиво спартак зенит динамо цска локомотив торпедо чемпион футбол хоккей
воин солдат армия танк танки снайпер охотник рыбак пират ниндзя самурай дракон
бэтмен терминатор матрица гаррипоттер хогвартс ведьмак сталкер варкрафт майнкрафт контра дота
обезьяна лягушка черепаха ёжик ежик белка бельчонок кролик хомяк хомячок попугай
барсик мурзик мурка шарик бобик тузик рекс дружок пушок снежок рыжик черныш
незнаю нет да хорошо пока спасибо пожалуйста ктотам открыть впусти впустименя
сезамоткройся абракадабра всемпривет ябог яцарь хочу ничего непомню забыл забылпароль
один два три раздватри четыре пять шесть семь восемь девять десять сто тысяча миллион
январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь
января февраля марта апреля мая июня июля августа сентября октября ноября декабря
понедельник вторник среда четверг пятница суббота воскресенье
сука блин жопа хрен
иванов петров сидоров смирнов кузнецов попов соколов волков иванова петрова смирнова
наташа наталья натали наташка настя анастасия настенька настюша катя катюша екатерина
маша мария машенька машка марина мариночка света светлана светик светочка лена елена
леночка ленка оля ольга олечка олька таня татьяна танюша танечка юля юлия юлечка юлька
ира ирина иришка ирочка аня анна анюта анечка анька даша дарья дашенька дашка вика
виктория викуля ксюша ксения кристина кристиночка алина алена алёна аленка алёнка полина
соня софия софья лиза елизавета лизонька надя люба любаша галя галина валя валентина
людмила люда лариса оксана инна жанна диана карина вероника евгения женя александра
саша сашенька сашка милана ангелина варвара ульяна алиса яна злата лилия регина нина
тамара зоя эльвира снежана дина элина камила есения василиса
александр алексей леша лёша леха лёха андрей андрюша андрюха антон артем артём артур
борис вадим валера валерий василий вася виктор витя виталий владимир вова вовочка
владислав влад гоша георгий григорий денис дима дмитрий димочка димка евгений егор иван
ваня ванечка ванька игорь илья кирилл костя константин максим макс михаил миша мишка
никита николай коля олег павел паша петр пётр петя роман рома руслан сергей серега серёга
сережа серёжа степан тимур федор фёдор юрий юра ярослав слава стас станислав санек санёк
саня данил данила даниил матвей тимофей глеб марк лев семен семён захар богдан эдуард
`;

// Russian passwords people type by transliteration rather than by key position.
const TRANSLIT = `
parol parol123 privet privetik lubov lyubov lublu yalublutebya solnyshko solnishko solnce
moskva rossiya rossia russia zaika zaya kotik kisa kiska malysh natasha nastya katya katyusha
masha sasha dasha vika ksusha ksenia lena olya tanya yulya ira anya sveta marina dima vova
sergey serega andrey alexey maksim misha nikita ivan vanya pasha kostya zenit spartak cska
qwerty123 1q2w3e 1q2w3e4r 1q2w3e4r5t 1qaz2wsx qazwsx zxcvbn asdfgh qwertyuiop asdfghjkl
`;

const words = (text) => text.split(/\s+/).filter(Boolean);
const out = new Set();
const add = (w) => {
  const n = normalize(w);
  if (n.length > 0) out.add(n);
};

const latin = dictionary['passwords-common'];
for (const w of latin) add(w);
latin.slice(0, REVERSE_TOP).forEach((w) => {
  if (/[a-z]/i.test(w)) add(mapKeys(LATIN_TO_RUSSIAN, normalize(w)));
});

const russian = words(RUSSIAN).flatMap((w) => (w.includes('ё') ? [w, w.replaceAll('ё', 'е')] : [w]));
for (const w of russian) {
  add(w);
  add(mapKeys(RUSSIAN_TO_LATIN, normalize(w)));
}
for (const w of words(TRANSLIT)) {
  add(w);
  add(mapKeys(LATIN_TO_RUSSIAN, normalize(w)));
}

const sorted = [...out].sort();
writeFileSync(OUT, `${sorted.join('\n')}\n`);
console.log(
  `wrote ${sorted.length} entries to ${OUT} (zxcvbn ${latin.length}, Russian ${new Set(russian).size}, transliterated ${words(TRANSLIT).length})`,
);

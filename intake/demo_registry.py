"""A deterministic, realistic synthetic registry (same CSV format as the real one) for demos, tests and benchmarks."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from intake.geography import Municipality, municipalities
from intake.progress import Progress
from intake.registry import BENEFICIARY_COLUMNS, PAYMENT_COLUMNS

GIVEN_NAMES = (
    "María",
    "José",
    "Ana",
    "Juan",
    "Rosa",
    "Carlos",
    "Dolores",
    "Luis",
    "Marta",
    "Francisco",
    "Gloria",
    "Jorge",
    "Sandra",
    "Mario",
    "Reina",
    "Pedro",
    "Lourdes",
    "Miguel",
    "Karla",
    "Óscar",
    "Suyapa",
    "Santos",
    "Yolanda",
    "Wilmer",
    "Dania",
    "Nelson",
    "Iris",
    "Héctor",
    "Xiomara",
    "Elvin",
    "Glenda",
    "Denis",
    "Maritza",
    "Marvin",
    "Olga",
    "Edwin",
    "Bessy",
    "Selvin",
    "Lilian",
    "Kevin",
)
SURNAMES = (
    "López",
    "Martínez",
    "Hernández",
    "Rodríguez",
    "García",
    "Mejía",
    "Flores",
    "Reyes",
    "Cruz",
    "Díaz",
    "Pérez",
    "Sánchez",
    "Castro",
    "Ramírez",
    "Zelaya",
    "Aguilar",
    "Ordóñez",
    "Velásquez",
    "Maradiaga",
    "Banegas",
    "Cálix",
    "Funez",
    "Rivera",
    "Ávila",
    "Padilla",
    "Amador",
    "Pineda",
    "Mendoza",
    "Murillo",
    "Euceda",
    "Bonilla",
    "Cáceres",
    "Suazo",
    "Midence",
    "Lagos",
    "Turcios",
)
# Most-populous departments hold more beneficiary households; weights are rough shares.
DEPARTMENT_WEIGHT = {
    "Francisco Morazán": 14,
    "Cortés": 12,
    "Yoro": 7,
    "Olancho": 7,
    "Choluteca": 6,
    "Comayagua": 6,
    "El Paraíso": 6,
    "Santa Bárbara": 6,
    "Lempira": 5,
    "Copán": 5,
    "Atlántida": 4,
    "Intibucá": 4,
    "Colón": 4,
    "La Paz": 3,
    "Valle": 2,
    "Ocotepeque": 2,
    "Gracias a Dios": 2,
    "Islas de la Bahía": 1,
}
POINT_TEMPLATES = (
    "Banrural, agencia {m}",
    "Banco de Occidente, agencia {m}",
    "Tigo Money, punto autorizado de {m}",
    "Centro de pago comunitario, alcaldía de {m}",
)
WITHHELD_REASONS = (
    "Falta constancia de matrícula escolar de un menor",
    "Asistencia escolar de un menor por debajo del 80 %",
    "Control de salud pendiente en la unidad de salud",
    "Datos del titular por verificar (identidad no coincide)",
)
SUSPENDED_REASON = "Hogar suspendido por incumplir corresponsabilidades tres ciclos seguidos"
AMOUNTS = ("1000.00", "1500.00", "2000.00", "2500.00", "3000.00")


def _add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def default_start(today: date | None = None) -> date:
    """Ten cycles in the past and two ahead of today, so a demo always has a next payment."""
    today = today or date.today()
    return _add_months(date(today.year, today.month, 1), -9)


def write_demo(
    directory: Path,
    households: int,
    seed: int,
    start: date | None = None,
    today: date | None = None,
    cycles: int = 12,
    meter: Progress | None = None,
) -> tuple[Path, Path]:
    """Write beneficiaries.csv and payments.csv into `directory`; same inputs, same bytes.

    Cycles after `today` are scheduled, earlier ones paid or withheld, so the output
    depends on the date unless `today` is given.
    """
    rng = random.Random(seed)
    today = today or date.today()
    start = start or default_start(today)
    places = municipalities()
    weights = [DEPARTMENT_WEIGHT.get(m.department, 1) for m in places]
    pay_day = {m.code: 8 + (int(m.code) * 7) % 18 for m in places}
    directory.mkdir(parents=True, exist_ok=True)
    beneficiaries_path = directory / "beneficiaries.csv"
    payments_path = directory / "payments.csv"
    used_phones: set[str] = set()
    serial = 0
    with (
        beneficiaries_path.open("w", newline="", encoding="utf-8") as bfile,
        payments_path.open("w", newline="", encoding="utf-8") as pfile,
    ):
        bout, pout = csv.writer(bfile), csv.writer(pfile)
        bout.writerow(BENEFICIARY_COLUMNS)
        pout.writerow(PAYMENT_COLUMNS)
        chosen: list[Municipality] = rng.choices(places, weights=weights, k=households)
        for number, place in enumerate(chosen, start=1):
            serial += 1
            household_id = f"HH{number:07d}"
            birth_year = rng.randint(1960, 2004)
            dni = f"{place.code}-{birth_year}-{serial % 100000:05d}"
            while True:
                phone = f"+504{rng.choice('389')}{rng.randrange(10**7):07d}"
                if phone not in used_phones:
                    used_phones.add(phone)
                    break
            name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
            status = rng.choices(("active", "suspended", "exited"), weights=(90, 7, 3))[0]
            bout.writerow([household_id, dni, name, phone, place.department, place.name, status])
            point = rng.choice(POINT_TEMPLATES).format(m=place.name)
            amount = rng.choice(AMOUNTS)
            stop = rng.randint(3, cycles - 1) if status == "exited" else cycles
            suspended_from = rng.randint(cycles - 4, cycles - 1) if status == "suspended" else cycles
            for offset in range(stop):
                month = _add_months(start, offset)
                scheduled = month.replace(day=pay_day[place.code])
                reason = ""
                if offset >= suspended_from:
                    pay_status, reason = "suspended", SUSPENDED_REASON
                elif scheduled > today:
                    pay_status = "scheduled"
                elif rng.random() < 0.1:
                    pay_status, reason = "withheld", rng.choice(WITHHELD_REASONS)
                else:
                    pay_status = "paid"
                pout.writerow(
                    [
                        household_id,
                        month.strftime("%Y-%m"),
                        scheduled.isoformat(),
                        amount,
                        pay_status,
                        point,
                        reason,
                    ]
                )
            if meter is not None:
                meter.advance()
    if meter is not None:
        meter.finish()
    return beneficiaries_path, payments_path
